"""SQL for key management: term usage, data-key rewrap batches, master rewrap, retire, shred.

Every function here is one short transaction (or one per batch), so a process killed at any
point leaves each row either as it was or fully rewritten, never half-written. The callers in
:mod:`blocks.key_management` supply the cryptography; this module never sees a plaintext key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from blocks.crypto.keyring import TermRecord
from blocks.errors import BlockNotFound, ConflictError, KeyringError
from blocks.store.engine import native_sql
from blocks.store.sealing import KINDS
from blocks.store.sql import utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from blocks.store.sql import SqlStore


class WrappedDataKey(NamedTuple):
    """One version's wrapped data key and what binds it (never its document).

    A tuple rather than a dataclass: a rewrap builds 100,000 of them.
    """

    block_id: str
    type_slug: str
    name: str
    version: int
    term: int
    wrapped_key: bytes


Cursor = tuple[str, int]
# Keyset pagination along the primary key; ("", 0) starts before every row. The unary plus
# keeps planners off the term index: walking it would mean sorting every remaining row of the
# old terms once per batch instead of reading the next ``n`` in key order.
_SELECT_BATCH = (
    "SELECT v.block_id, b.type_slug, b.name, v.version, v.term, v.wrapped_key "
    "FROM block_version v JOIN block b ON b.id = v.block_id "
    "WHERE (v.block_id, v.version) > (:b, :v) AND +v.term IN :terms "
    "ORDER BY v.block_id, v.version LIMIT :n"
)
_UPDATE = (
    "UPDATE block_version SET term = ?, wrapped_key = ? "
    "WHERE block_id = ? AND version = ? AND term = ? AND wrapped_key = ?"
)
Rewrap = Callable[[Sequence["WrappedDataKey"]], Sequence[tuple[int, bytes] | None]]


@dataclass(frozen=True)
class BatchResult:
    """What one rewrap batch did."""

    moved: int
    failed: list[WrappedDataKey]
    cursor: Cursor | None


def term_usage(store: SqlStore) -> dict[int, int]:
    """Number of versions whose data key is wrapped by each term (terms without any omitted)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT term, COUNT(*) FROM block_version WHERE term IS NOT NULL GROUP BY term"
        ).all()
    return {int(term): int(count) for term, count in rows}


def shredded_count(store: SqlStore) -> int:
    """Number of purged (crypto-shredded) versions."""
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT COUNT(*) FROM block_version WHERE wrapped_key IS NULL"
        ).scalar_one())


def count_in_terms(store: SqlStore, terms: Sequence[int]) -> int:
    """Number of versions wrapped by any of ``terms``."""
    if not terms:
        return 0
    from sqlalchemy import bindparam, text

    query = text("SELECT COUNT(*) FROM block_version WHERE term IN :terms").bindparams(
        bindparam("terms", expanding=True)
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query, {"terms": list(terms)}).scalar_one())


def rewrap_batch(
    store: SqlStore, terms: Sequence[int], cursor: Cursor | None, limit: int, rewrap: Rewrap
) -> BatchResult:
    """Rewrap up to ``limit`` data keys of ``terms`` after ``cursor``, in one transaction.

    ``rewrap`` maps the batch to new ``(term, wrapped_key)`` pairs, ``None`` where the old key
    does not open (the row is then left alone and reported). Each update is a compare-and-set
    on the old term and wrapped key, so a row changed meanwhile (purged, rewrapped by another
    process) is skipped, never overwritten.

    Returns:
        The rows moved, the rows that failed, and the cursor to resume from (``None`` at end).
    """
    from sqlalchemy import bindparam, text

    select = text(
        _SELECT_BATCH + (" FOR UPDATE OF v" if store.dialect == "postgresql" else "")
    ).bindparams(bindparam("terms", expanding=True))
    start = cursor or ("", 0)
    params: dict[str, Any] = {"terms": list(terms), "n": limit, "b": start[0], "v": start[1]}
    moved = 0
    with store.engine.begin() as conn:
        rows = [
            WrappedDataKey(b, s, n, v, t, bytes(k))
            for b, s, n, v, t, k in conn.execute(select, params).all()
        ]
        updates, failed = [], []
        for row, new in zip(rows, rewrap(rows), strict=True):
            if new is None:
                failed.append(row)
            else:
                updates.append(
                    (new[0], new[1], row.block_id, row.version, row.term, row.wrapped_key)
                )
        if updates:
            # Plain DB-API executemany: building SQLAlchemy parameters costs more than the
            # cryptography at 100,000 rows.
            sql = native_sql(_UPDATE, store.dialect == "sqlite")
            moved = conn.exec_driver_sql(sql, updates).rowcount
    end = None if len(rows) < limit else (rows[-1].block_id, rows[-1].version)
    return BatchResult(moved, failed, end)


def rewrap_terms(store: SqlStore, rewrap: Callable[[TermRecord], TermRecord]) -> list[TermRecord]:
    """Replace every term's wrapping (master-key rotation) in one transaction.

    The keyring table is locked for the duration, so no term can be added under the old master
    key meanwhile. ``rewrap`` may call the key providers; if it raises, nothing is written.

    Returns:
        The new records.
    """
    from sqlalchemy import text

    with store.engine.begin() as conn:
        _lock_terms(conn, store.dialect)
        old = _terms(conn)
        new = [rewrap(record) for record in old]
        for before, after in zip(old, new, strict=True):
            changed = conn.execute(
                text(
                    "UPDATE keyring_term SET wrapped_key = :k, provider = :p, key_id = :i "
                    "WHERE term = :t AND wrapped_key = :old"
                ),
                {"k": after.wrapped_key, "p": after.provider, "i": after.key_id,
                 "t": before.term, "old": before.wrapped_key},
            ).rowcount
            if changed != 1:
                raise ConflictError(f"keyring term {before.term} changed during the rotation")
    return new


def retire_term(store: SqlStore, term: int) -> None:
    """Delete a term's key for good, refused while a version uses it or it is the newest.

    Raises:
        KeyringError: no such term, it is the newest term, or versions still use it.
    """
    from sqlalchemy import text

    with store.engine.begin() as conn:
        _lock_terms(conn, store.dialect)
        terms = [r.term for r in _terms(conn)]
        if term not in terms:
            raise KeyringError(f"keyring term {term} does not exist; see 'blocks keys status'")
        if term == max(terms):
            raise KeyringError(
                f"keyring term {term} is the current term; run 'blocks keys rotate' and "
                f"'blocks keys rewrap --term {term}' first"
            )
        used = int(conn.execute(
            text("SELECT COUNT(*) FROM block_version WHERE term = :t"), {"t": term}
        ).scalar_one())
        if used:
            raise KeyringError(
                f"keyring term {term} still wraps the data keys of {used} version(s); run "
                f"'blocks keys rewrap --term {term}' first"
            )
        sealed: dict[str, int] = {}
        for kind in KINDS:
            count = int(conn.execute(
                # table and column names are constants of KINDS, never input
                text(f"SELECT COUNT(*) FROM {kind.table} WHERE {kind.term} = :t"),  # noqa: S608
                {"t": term},
            ).scalar_one())
            if count:
                sealed[kind.table] = sealed.get(kind.table, 0) + count
        if sealed:
            rows = ", ".join(f"{n} in {table}" for table, n in sorted(sealed.items()))
            raise KeyringError(
                f"keyring term {term} still seals {sum(sealed.values())} record(s) ({rows}); "
                f"run 'blocks keys rewrap --term {term}' first"
            )
        conn.execute(text("DELETE FROM keyring_term WHERE term = :t"), {"t": term})


def shred_version(store: SqlStore, slug: str, name: str, version: int) -> None:
    """Crypto-shred one version: delete its wrapped data key (and ciphertext) for good.

    Raises:
        BlockNotFound: no such block or version.
        ConflictError: it is the block's current version.
    """
    from sqlalchemy import text

    with store.engine.begin() as conn:
        row = conn.execute(
            text(
                "SELECT b.id, b.current_version FROM block b JOIN block_version v "
                "ON v.block_id = b.id WHERE b.type_slug = :s AND b.name = :n AND v.version = :v"
            ),
            {"s": slug, "n": name, "v": version},
        ).first()
        if row is None:
            raise BlockNotFound(f"{slug}/{name} has no version {version}")
        if row[1] == version:
            raise ConflictError(
                f"version {version} is the current version of {slug}/{name}; save a new "
                f"version or delete the block ('blocks rm {slug}/{name}') instead"
            )
        conn.execute(
            text(
                "UPDATE block_version SET wrapped_key = NULL, ciphertext = NULL, term = NULL "
                "WHERE block_id = :b AND version = :v"
            ),
            {"b": row[0], "v": version},
        )


def _lock_terms(conn: Connection, dialect: str) -> None:
    # SQLite transactions here already hold the write lock (BEGIN IMMEDIATE); PostgreSQL needs
    # a table lock so that no term is inserted while the set of terms is being rewritten.
    if dialect == "postgresql":
        conn.exec_driver_sql("LOCK TABLE keyring_term IN SHARE ROW EXCLUSIVE MODE")


def _terms(conn: Connection) -> list[TermRecord]:
    rows = conn.exec_driver_sql(
        "SELECT term, wrapped_key, provider, key_id, created_at, retired_at FROM keyring_term "
        "ORDER BY term"
    ).all()
    return [
        TermRecord(int(t), bytes(k), p, kid, utc(c), utc(r) if r else None)
        for t, k, p, kid, c, r in rows
    ]
