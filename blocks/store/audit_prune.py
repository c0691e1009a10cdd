"""Retention of the audit trail: ``blocks audit prune --before DATE`` (see
:mod:`blocks.store.audit_log`). The records stamped before the date go, and a sealed
checkpoint keeps what is left verifiable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from blocks.errors import IntegrityError
from blocks.store import chain
from blocks.store.audit_log import KIND

if TYPE_CHECKING:
    from blocks.store.ports import ChainWriter, Sealer, Signer


def prune(writer: ChainWriter, sealer: Sealer, before: datetime) -> int:
    """Delete the audit records stamped before ``before`` and seal the chain's checkpoint
    (the newest event removed and the events kept at or before it), in one transaction.

    Raises:
        IntegrityError: the chain does not verify (a prune must not seal a tampered log).
    """
    stamp = writer.stamp(before)
    with writer.transaction() as conn:
        top = conn.execute(writer.native(
            "SELECT MAX(seq) FROM event_log WHERE kind = ? AND at < ?"), (KIND, stamp)
        ).fetchone()[0]
        if top is None:
            return 0
        events, problems = chain.walk(conn, writer, sealer, keep=lambda kind: kind != KIND)
        if problems:
            raise IntegrityError(chain.WHAT, problems[0] + "; nothing was pruned")
        found = chain.checkpoint(conn, writer, sealer)
        if found is not None and found[0][0] >= top:
            return 0
        row = conn.execute(writer.native(
            "SELECT seq, prev, kind, subject, at, actor, body FROM event_log WHERE seq = ?"),
            (top,)).fetchone()
        last = chain.row_digest(row) or ""
        gone = conn.execute(writer.native(
            "DELETE FROM event_log WHERE kind = ? AND seq <= ? AND at < ?"),
            (KIND, top, stamp)).rowcount
        kept = [(e.seq, e.digest) for e in events if e.seq <= top]
        left = conn.execute(writer.native("SELECT COUNT(*) FROM event_log WHERE seq <= ?"),
                            (top,)).fetchone()[0]
        if left != len(kept):  # an audit record kept (stamped after ``before``) is kept too
            digests = {e.seq: e.digest for e in events}
            kept = _kept_rows(conn, writer, top, digests)
        put_checkpoint(conn, writer, sealer, (int(top), last), kept)
        return int(gone)


def _kept_rows(conn: Any, writer: ChainWriter, top: int, known: dict[int, str]
               ) -> list[tuple[int, str]]:
    out = []
    for row in conn.execute(writer.native(
            "SELECT seq, prev, kind, subject, at, actor, body FROM event_log WHERE seq <= ? "
            "ORDER BY seq"), (top,)).fetchall():
        out.append((row[0], known.get(row[0]) or chain.row_digest(row) or ""))
    return out


def put_checkpoint(conn: Any, writer: ChainWriter, sealer: Signer, last: tuple[int, str],
                   kept: Sequence[tuple[int, str]]) -> None:
    """Seal the checkpoint of a prune (inside the prune's transaction)."""
    for name, seq, digest in ((chain.CHECKPOINT, last[0], last[1]),
                              (chain.KEPT, len(kept), chain.kept_digest(kept))):
        term, mac = sealer.sign(chain.head_mac_message(name, seq, digest))
        if not conn.execute(writer.native(
                "UPDATE event_chain SET seq = ?, digest = ?, mac_term = ?, mac = ? "
                "WHERE name = ?"), (seq, digest, term, mac, name)).rowcount:
            conn.execute(writer.native(
                "INSERT INTO event_chain (name, seq, digest, mac_term, mac) "
                "VALUES (?, ?, ?, ?, ?)"), (name, seq, digest, term, mac))
