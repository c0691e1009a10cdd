"""Reading and writing the sealed token and policy rows; authenticating a token.

Every read checks the row's MAC and its set's sealed census before anything acts on it; every
write re-seals the row and adjusts the census in the same transaction
(:mod:`blocks.store.access_seals`).
"""

from __future__ import annotations

import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from blocks import _nowait
from blocks.access import policies as policy_docs
from blocks.access.checks import RowChecks
from blocks.access.policies import Policy
from blocks.access.principal import TokenPrincipal
from blocks.access.tokens import TokenInfo, new_token, token_hash, well_formed
from blocks.core import validate_name
from blocks.errors import (
    ConflictError,
    InvalidArgument,
    PolicyNotFound,
    StoreError,
    TokenNotFound,
    Unauthorized,
)
from blocks.store import access_seals as seals
from blocks.store import census
from blocks.store.access_seals import POLICIES, TOKENS
from blocks.store.generation import Memo
from blocks.store.sql import utc

if TYPE_CHECKING:
    from blocks.store.sealing import KeyringSealer
    from blocks.store.sql import SqlStore

LAST_USE_EVERY = 60.0
"""Seconds between two updates of a token's ``last_used_at``."""
ADMIN_POLICY = {"admin": True, "description": "everything: blocks, pools, tokens, policies"}

MAX_VERIFIED = 10_000
"""Tokens whose verification one access store remembers (forgotten all at once past this)."""

_UNAUTHORIZED = ("the API token is not valid (unknown, expired or revoked); set "
                 "BLOCKS_API_TOKEN to a token from 'blocks tokens create'")


class AccessStore(RowChecks):
    """Tokens and policies of one registry database.

    Args:
        store: the registry's store.
        sealer: the registry's sealer (holds the keyring).
        clock: returns the current time (tests move it).
    """

    def __init__(self, store: SqlStore, sealer: KeyringSealer,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.store, self.sealer = store, sealer
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cache = seals.CensusCache()
        self._parsed: dict[tuple[str, str], Policy] = {}
        self._seen: dict[tuple[Any, ...], Any] = {}
        self._census_memo: Memo[dict[str, tuple[int, str]]] = Memo(64)
        self._used: dict[str, datetime] = {}
        # token hash -> (the censuses' verified values, its row's info, its principal)
        self._verified: dict[str, tuple[Any, TokenInfo, TokenPrincipal]] = {}
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[tuple[Any, Callable[[str, tuple[Any, ...]], Any], str]]:
        self.store.ensure_schema()
        writer = self.store.writer
        _ = self.sealer.keyring.current_term  # a new registry's first term: outside the lock
        with writer.transaction() as conn:
            def run(sql: str, params: tuple[Any, ...]) -> Any:
                return conn.execute(writer.native(sql), params)

            yield conn, run, "" if writer.sqlite else " FOR UPDATE"

    def _stamp(self, value: Any) -> Any:
        return None if value is None else self.store.writer.stamp(utc(value))

    def _seal_token(self, run: Callable[..., Any], lock: str, values: tuple[Any, ...],
                    old: tuple[Any, ...] | None) -> None:
        """Insert or update a token row sealed, and move its census member."""
        message = seals.token_message(values)
        term, mac = self.sealer.sign(message)
        stamped = (*values[:5], *(self._stamp(v) for v in values[5:8]))
        if old is None:
            run("INSERT INTO api_token (id, name, token_hash, owner, policies, created_at, "
                "expires_at, revoked_at, mac_term, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*stamped, term, mac))
        else:
            run("UPDATE api_token SET revoked_at = ?, mac_term = ?, mac = ? WHERE id = ?",
                (stamped[7], term, mac, values[0]))
        census.adjust(run, self.sealer, TOKENS, add=[seals.member(message)],
                      remove=[seals.member(seals.token_message(old))] if old else [], lock=lock)

    def create_token(self, name: str, policy_names: Sequence[str], *, owner: str = "",
                     ttl: timedelta | None = None) -> tuple[str, TokenInfo]:
        """Create a token; returns it (shown once) and its public record.

        Raises:
            InvalidName, InvalidArgument: a bad name, owner or policy list.
            PolicyNotFound: a named policy does not exist.
            ConflictError: a token of that name exists.
        """
        validate_name(name, "token name")
        if not policy_names:
            raise InvalidArgument("a token needs at least one policy: --policy NAME "
                                  "(see 'blocks policies ls')")
        if len(owner) > 200:
            raise InvalidArgument("--owner is longer than 200 characters")
        names = sorted(set(policy_names))
        token = new_token()
        now = self.clock()
        expires = now + ttl if ttl is not None else None
        values = (str(uuid.uuid4()), name, token_hash(token), owner, json.dumps(names), now,
                  expires, None)
        with self._write() as (_conn, run, lock):
            existing = self._policy_rows(run, names)
            missing = [n for n in names if n not in existing]
            if missing:
                raise PolicyNotFound(f"no access policy {missing[0]!r}; create it with "
                                     f"'blocks policies put {missing[0]} --file policy.json'")
            if run("SELECT 1 FROM api_token WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"a token named {name!r} exists; pick another name or "
                                    f"revoke it first ('blocks tokens revoke {name}')")
            self._seal_token(run, lock, values, None)
        return token, self._info((*values, None))

    def revoke(self, name_or_id: str) -> TokenInfo:
        """Revoke a token (by name or id); revoking a revoked token is a no-op.

        Raises:
            TokenNotFound: no such token.
        """
        with self._write() as (_conn, run, lock):
            row = run(seals.TOKEN_SELECT + " WHERE name = ? OR id = ?" + lock,
                      (name_or_id, name_or_id)).fetchone()
            if row is None:
                raise TokenNotFound(f"no API token named {name_or_id!r}; see "
                                      "'blocks tokens ls'")
            self._check_token(tuple(row))
            old = tuple(row[:8])
            if row[7] is not None:
                return self._info(tuple(row[:9]))
            values = (*old[:7], self.clock())
            self._seal_token(run, lock, values, old)
        return self._info((*values, row[8]))

    def put_policy(self, name: str, policy: Policy) -> bool:
        """Create or replace a policy; returns True if it was created."""
        validate_name(name, "policy name")
        document = policy.canonical()
        with self._write() as (_conn, run, lock):
            old = run("SELECT name, document, mac_term, mac FROM access_policy "  # noqa: S608
                      "WHERE name = ?" + lock, (name,)).fetchone()
            message = seals.policy_message(name, document)
            term, mac = self.sealer.sign(message)
            remove = []
            if old is not None:
                self.sealer.check(old[2], old[3], seals.policy_message(old[0], old[1]),
                                  seals.describe_policy(name))
                remove = [seals.member(seals.policy_message(old[0], old[1]))]
                run("UPDATE access_policy SET document = ?, updated_at = ?, mac_term = ?, "
                    "mac = ? WHERE name = ?", (document, self._stamp(self.clock()), term, mac,
                                               name))
            else:
                run("INSERT INTO access_policy (name, document, updated_at, mac_term, mac) "
                    "VALUES (?, ?, ?, ?, ?)", (name, document, self._stamp(self.clock()),
                                               term, mac))
            census.adjust(run, self.sealer, POLICIES, add=[seals.member(message)],
                          remove=remove, lock=lock)
        return old is None

    def remove_policy(self, name: str) -> None:
        """Delete a policy no live token names.

        Raises:
            PolicyNotFound: no such policy.
            ConflictError: tokens that are not revoked name it (they are listed).
        """
        with self._write() as (_conn, run, lock):
            rows = self._policy_rows(run, [name], lock)
            if name not in rows:
                raise PolicyNotFound(f"no access policy {name!r}; see 'blocks policies ls'")
            users = sorted(
                str(r[1]) for r in run(seals.TOKEN_SELECT + " WHERE revoked_at IS NULL",
                                       ()).fetchall()
                if name in _policy_names(r[4]))
            if users:
                raise ConflictError(
                    f"access policy {name!r} is used by token(s) {', '.join(users)}; revoke "
                    "them or re-create them without it first")
            roles = sorted(str(r[0]) for r in run(
                "SELECT name, document FROM jwt_config WHERE kind = 'role'", ()).fetchall()
                if name in _role_policies(r[1]))
            if roles:
                raise ConflictError(
                    f"access policy {name!r} is used by JWT role(s) {', '.join(roles)}; put "
                    "them without it first ('blocks auth jwt role put')")
            run("DELETE FROM access_policy WHERE name = ?", (name,))
            census.adjust(run, self.sealer, POLICIES,
                          remove=[seals.member(seals.policy_message(name, rows[name]))],
                          lock=lock)

    def initialize(self, owner: str = "") -> tuple[str, TokenInfo]:
        """Create the ``admin`` policy and the first admin token (``blocks server init``).

        Raises:
            ConflictError: tokens or policies exist already.
        """
        self.store.ensure_schema()
        if self.initialized():
            raise ConflictError(
                "the server is already initialised (API tokens or access policies exist); "
                "create more tokens with 'blocks tokens create NAME --policy admin'")
        self.put_policy("admin", policy_docs.parse("admin", ADMIN_POLICY))
        return self.create_token("admin", ["admin"], owner=owner or "blocks server init")

    def initialized(self) -> bool:
        """True once a token, a policy or their census exists."""
        self.store.ensure_schema()
        return any(self.store._fetchone(sql, ()) is not None for sql in (
            "SELECT 1 FROM api_token LIMIT 1", "SELECT 1 FROM access_policy LIMIT 1",
            "SELECT 1 FROM sealed_census WHERE name IN ('access:tokens', 'access:policies')"))

    # -- reading ------------------------------------------------------------------------

    def _policy_rows(self, run: Callable[..., Any], names: Sequence[str],
                     lock: str = "") -> dict[str, str]:
        marks = ", ".join("?" for _ in names)
        rows = run("SELECT name, document, updated_at, mac_term, mac FROM access_policy "  # noqa: S608
                   f"WHERE name IN ({marks})" + lock, tuple(names)).fetchall()
        for row in rows:
            self.sealer.check(row[3], row[4], seals.policy_message(row[0], row[1]),
                              seals.describe_policy(row[0]))
        return {str(r[0]): str(r[1]) for r in rows}

    def list_tokens(self) -> list[TokenInfo]:
        """Every token, checked, by name."""
        self.store.ensure_schema()
        with self.store.snapshot():  # the rows and their census as of one moment
            rows = [tuple(r) for r in self.store._fetchall(seals.TOKEN_SELECT + " ORDER BY name",
                                                           ())]
            members = [self._token_member(row) for row in rows]
            if rows or self.initialized():
                self._confirm(TOKENS, members)
        return [self._info(r[:9]) for r in rows]

    def policies(self, names: Sequence[str] | None = None,
                 sealed: tuple[int, str] | None = None) -> dict[str, Policy]:
        """The named policies (all if ``names`` is None), checked and parsed, by name."""
        self.store.ensure_schema()
        if names is not None and not names:
            return {}
        with self.store.snapshot():  # the rows and their census as of one moment
            if names is None:
                rows = self.store._fetchall(seals.POLICY_SELECT + " ORDER BY name", ())
            else:
                marks = ", ".join("?" for _ in names)
                rows = self.store._fetchall(seals.POLICY_SELECT + f" WHERE name IN ({marks})",
                                            tuple(names))
            rows = [tuple(r) for r in rows]
            members = [self._policy_member(row) for row in rows]
            if rows or (names is None and self.initialized()):
                self._confirm(POLICIES, members, sealed)
        return {str(r[0]): self._parse(str(r[0]), str(r[1])) for r in rows}

    def get_policy(self, name: str) -> Policy:
        """One policy.

        Raises:
            PolicyNotFound: no such policy.
        """
        found = self.policies([name])
        if name not in found:
            raise PolicyNotFound(f"no access policy {name!r}; see 'blocks policies ls'")
        return found[name]

    # -- authenticating -------------------------------------------------------------------

    def authenticate(self, token: str | None) -> TokenPrincipal:
        """The principal ``token`` authenticates as.

        One indexed read when the token was verified before: the token and policy censuses'
        sealed values (which every create, revoke and policy change moves, on any replica) are
        read and checked, and while they are those the earlier verification held, its
        principal is the answer (its expiry is checked again). Anything else reads and
        checks the token's row and its policies as the first time.

        Raises:
            Unauthorized: no token, or an unknown, expired or revoked one (never echoed).
            IntegrityError: the token's row, its policies or their censuses do not
                authenticate (a database writer without the master key changed them).
        """
        if not token:
            raise Unauthorized("this request needs an API token: send 'Authorization: Bearer "
                               "blk_...' (clients: set BLOCKS_API_TOKEN)")
        if not well_formed(token):
            raise Unauthorized(_UNAUTHORIZED)
        digest = token_hash(token)
        self.store.ensure_schema()
        sealed = self._sealed()
        version = None if sealed is None else (sealed[TOKENS], sealed[POLICIES])
        known = self._verified.get(digest)
        if known is not None and version is not None and known[0] == version:
            info, principal = known[1], known[2]
        else:
            with self.store.snapshot():  # another process's commit between reads: no tamper
                sealed = self._sealed()
                info, principal = self._verify(digest, sealed)
            version = None if sealed is None else (sealed[TOKENS], sealed[POLICIES])
            if version is not None:
                if len(self._verified) >= MAX_VERIFIED:
                    self._verified.clear()
                self._verified[digest] = (version, info, principal)
        if info.state(self.clock()) != "active":
            raise Unauthorized(_UNAUTHORIZED)
        self._touch(info)
        return principal

    def _verify(self, digest: str, sealed: dict[str, tuple[int, str]] | None
                ) -> tuple[TokenInfo, TokenPrincipal]:
        """The checked token row of ``digest`` and its principal, under the censuses'
        verified values ``sealed`` (read here when ``None``)."""
        found = self.store._fetchone(seals.TOKEN_SELECT + " WHERE token_hash = ?", (digest,))
        if found is None or not hmac.compare_digest(str(found[2]).encode(), digest.encode()):
            raise Unauthorized(_UNAUTHORIZED)
        row = tuple(found)
        member = self._token_member(row)
        if sealed is None:
            sealed = self._censuses((TOKENS, POLICIES))
        self._confirm(TOKENS, [member], sealed[TOKENS])
        info = self._info(row[:9])
        if info.state(self.clock()) != "active":
            raise Unauthorized(_UNAUTHORIZED)
        policies = self.policies(list(info.policies), sealed[POLICIES])
        return info, TokenPrincipal.of(info.name, info.id, [policies[n] for n in info.policies
                                                            if n in policies])

    def _touch(self, info: TokenInfo) -> None:
        """Record the use at most once a minute per token (checked in this process first,
        then against the stored time, which another replica may have written)."""
        moment = self.clock()
        every = timedelta(seconds=LAST_USE_EVERY)
        with self._lock:
            seen = self._used.get(info.id)
            if seen is not None and moment - seen < every:
                return
            stored = info.last_used_at
            if stored is not None and moment - stored < every:
                self._used[info.id] = stored
                return
        _nowait.check()  # a write may wait for the lock: not on an event loop
        with self._lock:
            self._used[info.id] = moment
        try:
            with self.store.writer.transaction() as conn:
                conn.execute(self.store.writer.native(
                    "UPDATE api_token SET last_used_at = ? WHERE id = ?"),
                    (self._stamp(moment), info.id))
        except StoreError:  # informational only: a busy database never fails a request
            with self._lock:
                self._used.pop(info.id, None)

    @staticmethod
    def _info(row: Sequence[Any]) -> TokenInfo:
        def when(value: Any) -> datetime | None:
            return None if value is None else utc(value)

        return TokenInfo(str(row[0]), str(row[1]), str(row[3]), tuple(_policy_names(row[4])),
                         utc(row[5]), when(row[6]), when(row[7]), when(row[8]))


def _policy_names(text: Any) -> list[str]:
    try:
        names = json.loads(text)
    except (TypeError, ValueError):
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def _role_policies(document: Any) -> list[str]:
    try:
        found = json.loads(document).get("token_policies")
    except (TypeError, ValueError, AttributeError):
        return []
    return [str(n) for n in found] if isinstance(found, list) else []
