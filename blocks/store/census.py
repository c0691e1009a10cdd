"""Sealed censuses: a registry-wide record of which blocks (per type) and which mirrors exist.

A census row (table ``sealed_census``) holds how many members a set has and a digest of their
identities: the sum modulo 2**256 of each member's SHA-256 (a block: id, type, name; a mirror:
block id, target, target name). Adding or removing a member changes the row in O(1), in the
same transaction as the write that adds or removes it, so no write reads the whole set. The row
is MAC'd under the keyring like a block head, so a database writer without the master key can
neither edit it nor make it agree with a deleted block: ``blocks verify`` recounts the rows and
reports the difference, and the mirror census is checked before any mirror is acted on.

What a census cannot see: an old census row put back *together with* deleting every member
added after it (see docs/security-model.md; freshness needs an anchor outside the database).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from blocks.crypto import integrity
from blocks.errors import IntegrityError

TABLE = "sealed_census"
MIRRORS = "mirrors"
"""The census of the ``block_mirror`` rows (one row for the whole registry)."""
_MODULUS = 2**256
_ACCESS = {"access:tokens": "the census of API tokens",
           "access:policies": "the census of access policies",
           "access:jwt": "the census of JWT issuers and roles"}

Execute = Callable[[str, tuple[Any, ...]], Any]
"""Runs one statement written with ``?`` placeholders; returns a cursor (``fetchone``)."""


class Sealer(Protocol):
    """Signs and checks census rows (:class:`~blocks.store.sealing.KeyringSealer`)."""

    def sign(self, message: Callable[[int], bytes]) -> tuple[int, bytes]:
        """``(term, mac)`` of ``message(term)`` under the current term."""
        ...

    def check(self, term: Any, mac: Any, message: Callable[[int], bytes], what: str) -> None:
        """Raise :class:`IntegrityError` naming ``what`` unless the record authenticates."""
        ...


def blocks_of(slug: str) -> str:
    """The census name of the blocks of type ``slug``."""
    return f"blocks:{slug}"


def _member(*fields: str) -> int:
    text = integrity.census_message("member", 0, "\x1f".join(fields), 0)
    return int.from_bytes(hashlib.sha256(text).digest(), "big")


def block_member(block_id: str, slug: str, name: str) -> int:
    """A block's member value in its type's census."""
    return _member("block", str(block_id), str(slug), str(name))


def mirror_member(block_id: str, target: str, target_name: str) -> int:
    """A mirror row's member value in the mirror census."""
    return _member("mirror", str(block_id), str(target), str(target_name))


def digest(members: Iterable[int]) -> str:
    """The digest of a set of member values (hex)."""
    return format(sum(members) % _MODULUS, "064x")


def message(name: str, count: int, value: str) -> Callable[[int], bytes]:
    """What a census row's MAC covers."""
    return lambda t: integrity.census_message(name, count, value, t)


def describe(name: str) -> str:
    """A census row named for people."""
    if name == MIRRORS:
        return "the census of mirrors"
    if name in _ACCESS:
        return _ACCESS[name]
    if name == "deleted":
        return "the census of deleted blocks (the deletion schedule)"
    return f"the census of {name.removeprefix('blocks:')} blocks"


def read(execute: Execute, sealer: Sealer, name: str, *, lock: str = "") -> tuple[int, str] | None:
    """The verified ``(count, digest)`` of census ``name``; ``None`` when there is no row.

    Raises:
        IntegrityError: the row does not authenticate.
    """
    sql = "SELECT members, digest, mac_term, mac FROM sealed_census WHERE name = ?"
    row = execute(sql + lock, (name,)).fetchone()
    if row is None:
        return None
    count, value, term, mac = row
    sealer.check(term, mac, message(name, count, value), describe(name))
    return int(count), str(value)


def adjust(
    execute: Execute, sealer: Sealer, name: str, *, add: Sequence[int] = (),
    remove: Sequence[int] = (), lock: str = "",
) -> None:
    """Add and remove members of census ``name`` and re-seal it (inside the caller's
    transaction; ``lock`` is ``" FOR UPDATE"`` on PostgreSQL)."""
    found = read(execute, sealer, name, lock=lock)
    count, value = found if found is not None else (0, digest(()))
    count += len(add) - len(remove)
    value = digest([int(value, 16), *add, *(_MODULUS - m for m in remove)])
    term, mac = sealer.sign(message(name, count, value))
    if found is None:
        execute("INSERT INTO sealed_census (name, members, digest, mac_term, mac) "
                "VALUES (?, ?, ?, ?, ?)", (name, count, value, term, mac))
    else:
        execute("UPDATE sealed_census SET members = ?, digest = ?, mac_term = ?, mac = ? "
                "WHERE name = ?", (count, value, term, mac, name))


def write(execute: Execute, sealer: Sealer, name: str, members: Sequence[int]) -> None:
    """Set census ``name`` to exactly ``members`` (first sealing of an upgraded database)."""
    execute("DELETE FROM sealed_census WHERE name = ?", (name,))
    value = digest(members)
    term, mac = sealer.sign(message(name, len(members), value))
    execute("INSERT INTO sealed_census (name, members, digest, mac_term, mac) "
            "VALUES (?, ?, ?, ?, ?)", (name, len(members), value, term, mac))


def recount(
    blocks: Iterable[tuple[str, str, str]], mirrors: Iterable[tuple[str, str, str]]
) -> dict[str, tuple[int, str]]:
    """Every census as the stored rows say it should be: ``{name: (count, digest)}``."""
    members: dict[str, list[int]] = {MIRRORS: []}
    for block_id, slug, name in blocks:
        members.setdefault(blocks_of(slug), []).append(block_member(block_id, slug, name))
    for block_id, target, target_name in mirrors:
        members[MIRRORS].append(mirror_member(block_id, target, target_name))
    return {name: (len(values), digest(values)) for name, values in members.items()}


def differences(
    stored: dict[str, tuple[int, str]], actual: dict[str, tuple[int, str]]
) -> list[tuple[str, str]]:
    """``(census, detail)`` for each census whose rows do not match its sealed record."""
    out = []
    for name in sorted(set(stored) | set(actual)):
        have, want = actual.get(name, (0, digest(()))), stored.get(name)
        if want is None:
            if have[0]:
                out.append((describe(name), f"has no sealed record, but {have[0]} row(s) exist "
                                            "(the record was deleted outside Blocks?)"))
            continue
        if have == want:
            continue
        what = "mirror rows" if name == MIRRORS else "blocks"
        if have[0] != want[0]:
            detail = (f"{want[0]} {what} were recorded, {have[0]} exist: some were deleted or "
                      "put back outside Blocks")
        else:
            detail = f"the {what} that exist are not the ones recorded (changed outside Blocks?)"
        out.append((describe(name), detail))
    return out


def check_mirrors(execute: Execute, sealer: Sealer) -> list[tuple[str, str, str]]:
    """Every mirror row ``(block id, target, target name)``, after checking them against
    the sealed mirror census (one row read when nothing is mirrored).

    Raises:
        IntegrityError: the census is missing or does not authenticate, or the rows are not
            the ones it records (a row inserted, deleted or put back outside Blocks).
    """
    found = read(execute, sealer, MIRRORS)
    if found is None:
        raise IntegrityError(describe(MIRRORS), "its sealed record is missing")
    rows = [tuple(r) for r in execute(
        "SELECT block_id, target, target_name FROM block_mirror", ()).fetchall()]
    if found[0] == 0 and not rows:
        return []
    if (len(rows), digest(mirror_member(*r) for r in rows)) != found:
        raise IntegrityError(
            "the mirror records",
            "they do not match their sealed census (a mirror row was inserted, deleted or put "
            "back)",
        )
    return rows
