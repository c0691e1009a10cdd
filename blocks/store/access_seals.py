"""Sealed API token and access policy rows, and their censuses (``0013_tokens_policies``).

A token row's MAC covers everything that decides whether and as what the token authenticates
(:func:`blocks.crypto.integrity.token_message`): a database writer without the master key can
neither insert a token hash nor edit a row (un-revoke it, extend its expiry, add a policy).
A policy row's MAC covers its name and document. Each set also has a sealed census
(:mod:`blocks.store.census`: ``access:tokens``, ``access:policies``) whose members are the
digests of the rows' messages, so an *older* sealed copy of a row put back (a token as it was
before its revocation, a policy before it was narrowed) is not a member and is refused too.

Checking a row against its census needs every row of the set; :class:`CensusCache` keeps the
members of the last census value it verified, so an authentication reads the census row and
its own rows, and reads the whole set only when the census changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from blocks.crypto import integrity
from blocks.errors import IntegrityError
from blocks.store import census
from blocks.store.chain import at_text

TOKENS = "access:tokens"
POLICIES = "access:policies"
NAMES = (TOKENS, POLICIES)

TOKEN_COLUMNS = ("id", "name", "token_hash", "owner", "policies", "created_at", "expires_at",
                 "revoked_at")
"""The ``api_token`` columns the MAC covers, in the message's order."""
TOKEN_SELECT = ("SELECT " + ", ".join(TOKEN_COLUMNS) + ", last_used_at, mac_term, mac "
                "FROM api_token")
POLICY_SELECT = "SELECT name, document, updated_at, mac_term, mac FROM access_policy"

Message = Callable[[int], bytes]


def _time(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return at_text(value)
    except IntegrityError:
        return "not a timestamp"  # never a valid MAC input of ours: the row does not verify


def token_message(row: Sequence[Any]) -> Message:
    """What a token row's MAC covers, from its values in ``TOKEN_COLUMNS`` order."""
    tid, name, token_hash, owner, policies, created, expires, revoked = row[:8]
    created_s, expires_s, revoked_s = _time(created), _time(expires), _time(revoked)
    return lambda t: integrity.token_message(tid, name, token_hash, owner, policies, created_s,
                                             expires_s, revoked_s, t)


def policy_message(name: Any, document: Any) -> Message:
    """What a policy row's MAC covers."""
    return lambda t: integrity.access_policy_message(name, document, t)


def member(message: Message) -> int:
    """A row's member value in its set's census."""
    digest = hashlib.sha256(integrity.access_member(message(0))).digest()
    return int.from_bytes(digest, "big")


def describe_token(name: Any) -> str:
    """A token row named for people (never the token or its hash)."""
    return f"API token {name!r}"


def describe_policy(name: Any) -> str:
    """A policy row named for people."""
    return f"access policy {name!r}"


class CensusCache:
    """The members of the last verified value of each access census (per process).

    Keyed by the census's sealed ``(count, digest)``: a member found in the cached set of the
    census value just read is a member of that census (the set was recounted against it).
    """

    def __init__(self) -> None:
        self._sets: dict[str, tuple[tuple[int, str], frozenset[int]]] = {}
        self._lock = threading.Lock()

    def confirm(
        self, name: str, sealed: tuple[int, str], members: Iterable[int],
        recount: Callable[[], list[int]],
    ) -> None:
        """Raise :class:`IntegrityError` unless every one of ``members`` belongs to census
        ``name`` whose verified value is ``sealed``; ``recount`` reads the whole set."""
        wanted = list(members)
        with self._lock:
            cached = self._sets.get(name)
        if cached is None or cached[0] != sealed:
            values = recount()
            if (len(values), census.digest(values)) != sealed:
                raise IntegrityError(
                    _set_name(name), "the rows do not match their sealed census (a row was "
                                     "inserted, deleted or put back from an older copy)")
            cached = (sealed, frozenset(values))
            with self._lock:
                self._sets[name] = cached
        if any(m not in cached[1] for m in wanted):
            raise IntegrityError(_set_name(name), "a row is not the one its sealed census "
                                                  "records (put back from an older copy?)")


def _set_name(name: str) -> str:
    return {TOKENS: "the API tokens", POLICIES: "the access policies"}.get(
        name, "the JWT issuers and roles")


def recount_problems(
    stored: dict[str, tuple[int, str]], tokens: Sequence[Sequence[Any]],
    policies: Sequence[Sequence[Any]],
) -> list[tuple[str, str]]:
    """``(what, detail)`` for each access census the rows do not match (``blocks verify``)."""
    actual = {
        TOKENS: [member(token_message(r)) for r in tokens],
        POLICIES: [member(policy_message(r[0], r[1])) for r in policies],
    }
    out = []
    for name in NAMES:
        values = actual[name]
        want = stored.get(name)
        if want is None:
            if values:
                out.append((_set_name(name), f"have no sealed census, but {len(values)} row(s) "
                                             "exist (inserted outside Blocks?)"))
            continue
        if (len(values), census.digest(values)) != want:
            out.append((_set_name(name), "do not match their sealed census: a row was inserted, "
                                         "deleted or put back from an older copy outside Blocks"))
    return out
