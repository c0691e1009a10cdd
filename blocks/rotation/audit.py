"""What ``blocks verify`` checks of rotation beyond each MAC: the event chain and the policies.

The chain must be whole (:func:`blocks.store.chain.walk`). Each block whose newest
``rotation-policy`` event says ``set`` must have its policy row (a row deleted by a database
writer stops rotation silently), and each policy row must name the block's newest rotation
event (an older sealed row put back from a copy names an older one).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from blocks.store import chain
from blocks.store.rotation_seals import KIND, POLICY_KIND

if TYPE_CHECKING:
    from blocks.registry import Registry

Problem = tuple[str, str, str]
"""``(kind, what, detail)`` as :class:`blocks.verify.Problem` takes them."""


def chain_problems(registry: Registry) -> list[Problem]:
    """Problems of the event chain and of the rotation policies against it."""
    writer, sealer = registry.store.writer, registry.sealer
    with chain.snapshot(writer) as conn:  # the events and the rows as of one moment
        events, broken = chain.walk(conn, writer, sealer, keep=lambda kind: kind != chain.AUDIT)
        blocks = {bid: f"{slug}/{name}" for bid, slug, name in conn.execute(
            "SELECT id, type_slug, name FROM block").fetchall()}
        rows: dict[str, int | None] = {row[0]: row[1] for row in conn.execute(
            "SELECT block_id, event_seq FROM rotation_policy").fetchall()}
    problems: list[Problem] = [("event-chain", chain.WHAT, p) for p in broken]
    newest: dict[str, int] = {}
    policy_set: dict[str, tuple[bool, int]] = {}
    for event in events:
        if event.kind in (KIND, POLICY_KIND):
            newest[event.subject] = event.seq
        if event.kind == POLICY_KIND:
            policy_set[event.subject] = (json.loads(event.body).get("outcome") == "set",
                                         event.seq)
    for block_id, (is_set, seq) in sorted(policy_set.items()):
        if is_set and block_id in blocks and block_id not in rows:
            problems.append(("rotation-policy", f"{blocks[block_id]} (rotation policy)",
                             f"is missing: event {seq} set it and none dropped it (deleted "
                             "outside Blocks? rotation has stopped; set the policy again)"))
    for block_id, sealed_seq in sorted(rows.items(), key=lambda r: str(r[0])):
        what = f"{blocks.get(block_id, block_id)} (rotation policy)"
        if not policy_set.get(block_id, (False, 0))[0]:
            problems.append(("rotation-policy", what, "has no sealed event that set it "
                             "(put back after it was dropped?)"))
        elif newest.get(block_id) != sealed_seq:
            problems.append(("rotation-policy", what, "is older than the block's newest "
                             "rotation event (put back from a copy?)"))
    return problems
