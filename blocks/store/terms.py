"""Keyring terms in the SQL store (:class:`blocks.store.sql.SqlStore`): the rows read back as
:class:`~blocks.crypto.keyring.TermRecord`, and a new term added, refused when it is wrapped
under another master key than the terms already stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.crypto.keyring import TermRecord, claimed_key_message
from blocks.errors import ConflictError, IntegrityError, KeyringError
from blocks.store.records import utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

SQL_TERMS = (
    "SELECT term, wrapped_key, provider, key_id, created_at, retired_at FROM keyring_term "
    "ORDER BY term"
)


def records(rows: Iterable[Any]) -> list[TermRecord]:
    """The rows of :data:`SQL_TERMS` as term records (``IntegrityError`` on a wrong type)."""
    out = []
    for t, k, p, kid, c, r in rows:
        if type(t) is not int or not isinstance(k, bytes | memoryview) or not isinstance(
            p, str
        ) or not isinstance(kid, str):
            raise IntegrityError("a keyring term", "its stored fields have the wrong types")
        out.append(TermRecord(t, bytes(k), p, kid, utc(c), utc(r) if r else None))
    return out


def insert_term(engine: Engine, dialect: str, record: TermRecord) -> None:
    """Add a keyring term (``ConflictError`` if the number is taken, ``KeyringError`` if the
    stored terms are under another master key)."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError as DbIntegrityError

    from blocks.store.tables import KeyringTermRow

    table = KeyringTermRow.__table__  # type: ignore[attr-defined]
    try:
        with engine.begin() as conn:
            _check_same_master_key(conn, dialect, record)
            conn.execute(insert(table).values(
                term=record.term, wrapped_key=record.wrapped_key, provider=record.provider,
                key_id=record.key_id, created_at=record.created_at or datetime.now(UTC),
            ))
    except DbIntegrityError:
        raise ConflictError(f"keyring term {record.term} already exists") from None


def _check_same_master_key(conn: Connection, dialect: str, record: TermRecord) -> None:
    # All terms share one master key: refuse a term wrapped under a key that
    # 'keys rotate-master' replaced meanwhile (the lock orders us after such a rotation).
    if dialect == "postgresql":
        conn.exec_driver_sql("LOCK TABLE keyring_term IN SHARE ROW EXCLUSIVE MODE")
    from sqlalchemy import text

    other = conn.execute(
        text("SELECT term, provider, key_id FROM keyring_term "
             "WHERE provider <> :p OR key_id <> :k ORDER BY term"),
        {"p": record.provider, "k": record.key_id},
    ).first()
    if other is not None:
        # The record is what a database writer can set: never send the operator there.
        raise KeyringError(claimed_key_message(
            other[0], (str(other[1]), str(other[2])), (record.provider, record.key_id)
        ))
