"""Queue priorities as Prefect's server keeps them: one queue per priority, 1 first.

Giving a queue a priority another queue holds moves that queue (and the ones after it, as far
as needed) one step down instead of failing, with the fewest changes: the rule of Prefect's
``bulk_update_work_queue_priorities``, so that a pool's queues end up in the same order here
as on a Prefect server they are published to.
"""

from __future__ import annotations

from collections.abc import Mapping


def shifted(priorities: Mapping[str, int], name: str, priority: int) -> dict[str, int]:
    """The other queues whose priority changes when queue ``name`` takes ``priority``.

    Args:
        priorities: every queue of the pool (``name`` may be among them) with its priority.
        name: the queue being created or given a new priority.
        priority: its priority (>= 1).

    Returns:
        ``{queue: new priority}`` for the queues that move; empty when none does.

    Example:
        >>> shifted({"default": 1, "bulk": 2, "backfill": 5}, "critical", 1)
        {'default': 2, 'bulk': 3}
    """
    order = sorted((p, n) for n, p in priorities.items() if n != name)
    position = next((i for i, (p, _) in enumerate(order) if p >= priority), len(order))
    order.insert(position, (priority, name))
    moved: dict[str, int] = {}
    last = 0
    for current, queue in order:
        if current <= last:
            last += 1
            if queue != name:
                moved[queue] = last
        else:
            last = current
    return moved
