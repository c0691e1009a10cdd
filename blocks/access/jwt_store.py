"""Reading and writing the sealed JWT issuer and role rows (``blocks auth jwt``).

Every read checks each row's MAC and the rows against their sealed census (``access:jwt``)
before anything acts on them; every write re-seals the row and adjusts the census in the same
transaction (:mod:`blocks.store.jwt_seals`). :class:`JwtStore` is what ``blocks auth jwt``
calls on the server's database; :class:`~blocks.remote.jwt_admin.RemoteJwtAdmin` is the same
through a server (``registry.jwt_auth()`` gives the right one).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from blocks.access.jwt_config import Issuer, Role, parse_issuer, parse_role
from blocks.errors import ConflictError, IntegrityError, JwtConfigNotFound, PolicyNotFound
from blocks.store import census, jwt_seals
from blocks.store.access_seals import CensusCache
from blocks.store.jwt_seals import JWT
from blocks.store.sql import utc

if TYPE_CHECKING:
    from blocks.store.sealing import KeyringSealer
    from blocks.store.sql import SqlStore

Config = dict[tuple[str, str], Issuer | Role]


class JwtAdmin(Protocol):
    """Administration of the trusted JWT issuers and roles."""

    def put_issuer(self, issuer: Issuer) -> bool:
        """Create or replace an issuer; True if it was created."""
        ...

    def put_role(self, role: Role) -> bool:
        """Create or replace a role; True if it was created."""
        ...

    def issuers(self) -> dict[str, Issuer]:
        """Every issuer, by name."""
        ...

    def roles(self) -> dict[str, Role]:
        """Every role, by name."""
        ...

    def remove(self, kind: str, name: str) -> None:
        """Delete an issuer (refused while a role names it) or a role."""
        ...


def parse(kind: str, name: str, document: Any) -> Issuer | Role:
    """An issuer or a role from its parsed JSON document."""
    return parse_issuer(name, document) if kind == "issuer" else parse_role(name, document)


def not_found(kind: str, name: str) -> JwtConfigNotFound:
    """The error for a missing issuer or role."""
    return JwtConfigNotFound(f"no JWT {kind} named {name!r}; see 'blocks auth jwt {kind} ls'")


class JwtStore:
    """The JWT issuers and roles of one registry database.

    Args:
        store: the registry's store.
        sealer: the registry's sealer (holds the keyring).
    """

    def __init__(self, store: SqlStore, sealer: KeyringSealer) -> None:
        self.store, self.sealer = store, sealer
        self.cache = CensusCache()
        self._parsed: dict[tuple[Any, ...], Issuer | Role] = {}
        self._members: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[tuple[Callable[[str, tuple[Any, ...]], Any], str]]:
        self.store.ensure_schema()
        writer = self.store.writer
        _ = self.sealer.keyring.current_term  # a new registry's first term: outside the lock
        with writer.transaction() as conn:
            def run(sql: str, params: tuple[Any, ...]) -> Any:
                return conn.execute(writer.native(sql), params)

            yield run, "" if writer.sqlite else " FOR UPDATE"

    def _put(self, kind: str, item: Issuer | Role,
             check: Callable[[Callable[..., Any]], None]) -> bool:
        document = item.canonical()
        with self._write() as (run, lock):
            check(run)
            old = run(jwt_seals.SELECT + " WHERE kind = ? AND name = ?" + lock,
                      (kind, item.name)).fetchone()
            term, mac = self.sealer.sign(jwt_seals.message(kind, item.name, document))
            stamp = self.store.writer.stamp(utc(datetime.now(UTC)))
            remove = []
            if old is not None:
                self._check(tuple(old))
                remove = [jwt_seals.member(old[0], old[1], old[2])]
                run("UPDATE jwt_config SET document = ?, updated_at = ?, mac_term = ?, mac = ? "
                    "WHERE kind = ? AND name = ?", (document, stamp, term, mac, kind, item.name))
            else:
                run("INSERT INTO jwt_config (kind, name, document, updated_at, mac_term, mac) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (kind, item.name, document, stamp, term, mac))
            census.adjust(run, self.sealer, JWT, add=[jwt_seals.member(kind, item.name, document)],
                          remove=remove, lock=lock)
        return old is None

    def put_issuer(self, issuer: Issuer) -> bool:
        """Create or replace a trusted issuer; True if it was created."""
        return self._put("issuer", issuer, lambda run: None)

    def put_role(self, role: Role) -> bool:
        """Create or replace a role; True if it was created.

        Raises:
            JwtConfigNotFound: its issuer does not exist.
            PolicyNotFound: one of its policies does not exist.
        """
        def check(run: Callable[..., Any]) -> None:
            found = run(jwt_seals.SELECT + " WHERE kind = 'issuer' AND name = ?",
                        (role.issuer,)).fetchone()
            if found is None:
                raise JwtConfigNotFound(
                    f"role {role.name!r} names the issuer {role.issuer!r}, which does not exist;"
                    f" add it first ('blocks auth jwt issuer put {role.issuer} ...')")
            self._check(tuple(found))
            for policy in role.policies:
                if run("SELECT 1 FROM access_policy WHERE name = ?", (policy,)).fetchone() is None:
                    raise PolicyNotFound(f"no access policy {policy!r}; create it with "
                                         f"'blocks policies put {policy} --file policy.json'")

        return self._put("role", role, check)

    def remove(self, kind: str, name: str) -> None:
        """Delete an issuer or a role (tokens already exchanged for the role stop working).

        Raises:
            JwtConfigNotFound: no such row.
            ConflictError: an issuer that roles still name (they are listed).
        """
        with self._write() as (run, lock):
            row = run(jwt_seals.SELECT + " WHERE kind = ? AND name = ?" + lock,
                      (kind, name)).fetchone()
            if row is None:
                raise not_found(kind, name)
            self._check(tuple(row))
            if kind == "issuer":
                users = sorted(str(r[0]) for r in run(
                    "SELECT name, document FROM jwt_config WHERE kind = 'role'", ()).fetchall()
                    if _field(r[1], "issuer") == name)
                if users:
                    raise ConflictError(f"JWT issuer {name!r} is used by role(s) "
                                        f"{', '.join(users)}; remove them first")
            run("DELETE FROM jwt_config WHERE kind = ? AND name = ?", (kind, name))
            census.adjust(run, self.sealer, JWT, remove=[jwt_seals.member(*row[:3])], lock=lock)

    # -- reading ------------------------------------------------------------------------

    def _check(self, row: tuple[Any, ...]) -> None:
        self.sealer.check(row[4], row[5], jwt_seals.message(row[0], row[1], row[2]),
                          jwt_seals.describe(row[0], row[1]))

    def _sealed(self) -> tuple[int, str] | None:
        return census.read(lambda sql, params: _Rows(self.store._fetchall(sql, params)),
                           self.sealer, JWT)

    def config(self) -> Config:
        """Every issuer and role, each row and the set checked against the census."""
        self.store.ensure_schema()
        with self.store.snapshot():  # the rows and their census as of one moment
            rows = [tuple(r) for r in self.store._fetchall(
                jwt_seals.SELECT + " ORDER BY kind, name", ())]
            sealed = self._sealed()
        if sealed is None:
            if rows:
                raise IntegrityError("the JWT issuers and roles", "their sealed census is "
                                     "missing, but rows exist (inserted outside Blocks?)")
            return {}
        members = [self._member(row) for row in rows]
        self.cache.confirm(JWT, sealed, members, lambda: [self._member(r) for r in rows])
        return {(str(r[0]), str(r[1])): self._parse(r) for r in rows}

    def role(self, name: str) -> tuple[Role, int]:
        """One role and its census member, checked (an authentication's read).

        Raises:
            JwtConfigNotFound: no such role.
            IntegrityError: the row or the set does not authenticate.
        """
        self.store.ensure_schema()
        with self.store.snapshot():  # the row, its set and their census as of one moment
            found = self.store._fetchone(
                jwt_seals.SELECT + " WHERE kind = 'role' AND name = ?", (name,))
            if found is None:
                raise not_found("role", name)
            row = tuple(found)
            sealed = self._sealed()
            if sealed is None:
                raise IntegrityError("the JWT issuers and roles",
                                     "their sealed record is missing")
            member = self._member(row)

            def recount() -> list[int]:
                return [self._member(tuple(r))
                        for r in self.store._fetchall(jwt_seals.SELECT, ())]

            self.cache.confirm(JWT, sealed, [member], recount)
        role = self._parse(row)
        assert isinstance(role, Role)
        return role, member

    def issuers(self) -> dict[str, Issuer]:
        """Every issuer, by name."""
        return {n: i for (k, n), i in self.config().items() if isinstance(i, Issuer)}

    def roles(self) -> dict[str, Role]:
        """Every role, by name."""
        return {n: r for (k, n), r in self.config().items() if isinstance(r, Role)}

    def _member(self, row: tuple[Any, ...]) -> int:
        """The row's census member, after checking its MAC (a row byte-for-byte equal to one
        already checked is not checked again)."""
        key = (*row[:3], row[4], _bytes(row[5]))
        found = self._members.get(key)
        if found is None:
            self._check(row)
            found = jwt_seals.member(row[0], row[1], row[2])
            with self._lock:
                if len(self._members) > 10_000:
                    self._members.clear()
                self._members[key] = found
        return found

    def _parse(self, row: tuple[Any, ...]) -> Issuer | Role:
        key = tuple(row[:3])
        found = self._parsed.get(key)
        if found is None:
            found = parse(str(row[0]), str(row[1]), json.loads(row[2]))
            with self._lock:
                if len(self._parsed) > 1000:
                    self._parsed.clear()
                self._parsed[key] = found
        return found


class _Rows:
    def __init__(self, rows: Any) -> None:
        self.rows = list(rows)

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


def _field(document: Any, key: str) -> Any:
    try:
        value = json.loads(document)
    except (TypeError, ValueError):
        return None
    return value.get(key) if isinstance(value, Mapping) else None


def _bytes(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
