"""Sealed rotation policy rows, and sealing what a database upgraded to 0011 already holds.

A ``rotation_policy`` row's MAC covers every column that decides what a rotation does (see
:func:`blocks.crypto.integrity.policy_message`); the lease and the displayed state are not
covered (they decide nothing: a run reads its steps from the sealed ``run``).

Revision ``0011_seal_rotation`` adds the MAC columns and moves the rotation events into the
event chain (:mod:`blocks.store.chain`) unsealed; the ``registry_state`` row
``unsealed-rotation`` marks that. The first Registry that opens the database with its master
key runs :func:`seal_unsealed_rotation`: it links and seals those events, records one
``policy set`` event per existing policy, seals the policies, and deletes the marker, in one
transaction, and logs what it sealed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blocks.crypto import integrity
from blocks.errors import IntegrityError
from blocks.store import chain

if TYPE_CHECKING:
    from blocks.store.ports import ChainWriter, KeyedSigner, Signer, UpgradeSealingStore

log = logging.getLogger("blocks")

MARKER = "unsealed-rotation"
KIND = "rotation"
"""The event kind of rotation steps."""
POLICY_KIND = "rotation-policy"
"""The event kind of setting or dropping a block's policy (body: ``{"outcome": "set"}``)."""

SEALED = ("policy", "next_due_at", "last_rotated_at", "run", "revoke_version", "revoke_due_at",
          "revoke_state", "event_seq")
"""The ``rotation_policy`` columns the MAC covers (with ``block_id``)."""


def _time(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return chain.at_text(value)
    except IntegrityError:
        return "not a timestamp"  # never a valid MAC input of ours: the row does not verify


def policy_message(block_id: Any, values: Sequence[Any]) -> Callable[[int], bytes]:
    """What a policy row's MAC covers, from the stored values of ``SEALED`` (in that order)."""
    policy, next_due, last_rotated, run, revoke_version, revoke_due, revoke_state, seq = values
    return lambda t: integrity.policy_message(
        block_id, policy, _time(next_due), _time(last_rotated), run, revoke_version,
        _time(revoke_due), revoke_state, seq, t,
    )


def policy_event(block_id: str, at: datetime, actor: str, outcome: str) -> chain.NewEvent:
    """The event of setting (``outcome="set"``) or dropping a block's policy."""
    body = json.dumps({"outcome": outcome}, sort_keys=True, separators=(",", ":"))
    return chain.NewEvent(POLICY_KIND, block_id, at, actor, body)


def has_marker(store: UpgradeSealingStore) -> bool:
    """True while the database has rotation rows from before ``0011_seal_rotation`` to seal."""
    return store._fetchone("SELECT 1 FROM registry_state WHERE name = ?", (MARKER,)) is not None


def seal_unsealed_rotation(store: UpgradeSealingStore, sealer: KeyedSigner) -> int:
    """Seal the rotation rows of a database upgraded to 0011 (once); returns how many."""
    writer = store.writer
    q = writer.native
    _ = sealer.keyring.current_term  # a new registry's first term: made outside the lock
    with writer.transaction() as conn:
        lock = "" if writer.sqlite else " FOR UPDATE"
        if conn.execute(q("SELECT 1 FROM registry_state WHERE name = ?") + lock,
                        (MARKER,)).fetchone() is None:
            return 0
        chain.start(conn, writer, sealer)
        events = _seal_events(conn, writer, sealer)
        now = datetime.now(UTC)
        policies = 0
        rows = conn.execute("SELECT block_id, " + ", ".join(SEALED[:-1])  # noqa: S608
                            + " FROM rotation_policy WHERE mac IS NULL").fetchall()
        for row in rows:
            seq = chain.append(conn, writer, sealer,
                               [policy_event(row[0], now, "migration:0011", "set")])
            term, mac = sealer.sign(policy_message(row[0], (*row[1:], seq)))
            conn.execute(q("UPDATE rotation_policy SET event_seq = ?, mac_term = ?, mac = ? "
                           "WHERE block_id = ?"), (seq, term, mac, row[0]))
            policies += 1
        conn.execute(q("DELETE FROM registry_state WHERE name = ?"), (MARKER,))
    if events or policies:
        log.warning("blocks: sealed %d rotation polic%s and %d rotation event(s) written "
                    "before the upgrade to 0011_seal_rotation", policies,
                    "y" if policies == 1 else "ies", events)
    return events + policies


def _seal_events(conn: Any, writer: ChainWriter, sealer: Signer) -> int:
    """Link and seal the events the migration copied (they follow the head in ``seq`` order)."""
    head = conn.execute(writer.native(
        "SELECT seq, digest FROM event_chain WHERE name = ?"), (chain.NAME,)).fetchone()
    seq, digest = int(head[0]), str(head[1])
    rows = conn.execute(
        "SELECT seq, kind, subject, at, actor, body FROM event_log WHERE mac IS NULL "
        "ORDER BY seq"
    ).fetchall()
    update = writer.native("UPDATE event_log SET seq = ?, prev = ?, mac_term = ?, mac = ? "
                           "WHERE seq = ?")
    for old, kind, subject, at, actor, body in rows:
        seq += 1
        new = chain.digest_of(seq, digest, kind, subject, chain.at_text(at), actor, body)
        term, mac = sealer.sign(chain.event_mac_message(new))
        conn.execute(update, (seq, digest, term, mac, old))
        digest = new
    if rows:
        term, mac = sealer.sign(chain.head_mac_message(chain.NAME, seq, digest))
        conn.execute(writer.native(
            "UPDATE event_chain SET seq = ?, digest = ?, mac_term = ?, mac = ? WHERE name = ?"
        ), (seq, digest, term, mac, chain.NAME))
    return len(rows)
