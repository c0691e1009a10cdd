"""Two writer processes racing on one pool (and one queue) in PostgreSQL.

Both load the same version, wait for each other at a barrier, then save: exactly one wins, the
other gets ConflictError, and the stored pool holds the winner's change (no lost update).
"""

from __future__ import annotations

from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Settings
from blocks.pools import WorkPool
from tests.forked import writer_context

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROUNDS = 3


def _writer(home: str, url: str, writer: int, barrier: Barrier, target: str, out: Any) -> None:
    from blocks.errors import ConflictError

    registry = Registry(Settings(home=Path(home), database_url=url))
    try:
        pool = WorkPool.load("race", registry=registry)
        queue = pool.queue("critical")
        barrier.wait(timeout=30)
        try:
            if target == "pool":
                pool.description = f"writer {writer}"
                pool.save()
            else:
                queue.description = f"writer {writer}"
                queue.save()
            out.put((writer, "saved"))
        except ConflictError:
            out.put((writer, "conflict"))
    except Exception as exc:  # reported to the test, which fails with it
        out.put((writer, f"error {type(exc).__name__}: {exc}"))
    finally:
        registry.close()


def _race(home: Path, url: str, target: str) -> dict[int, str]:
    ctx = writer_context(__name__)
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(home), url, i, barrier, target, out))
        for i in (1, 2)
    ]
    for proc in procs:
        proc.start()
    results = dict(out.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return results


@pytest.mark.parametrize("target", ["pool", "queue"])
def test_two_processes_racing_on_one_pool_one_wins_one_conflicts(
    pg_registry: Registry, pg_url: str, blocks_home: Path, target: str
) -> None:
    pool = WorkPool(name="race", type="kubernetes").save(registry=pg_registry)
    pool.create_queue("critical")
    for round_ in range(ROUNDS):
        results = _race(blocks_home, pg_url, target)
        assert sorted(results.values()) == ["conflict", "saved"], results
        winner = next(w for w, r in results.items() if r == "saved")
        stored = WorkPool.load("race", registry=pg_registry)
        if target == "pool":
            assert stored.version == round_ + 2
            assert stored.description == f"writer {winner}"
            assert len(WorkPool.history("race", registry=pg_registry)) == round_ + 2
        else:
            queue = stored.queue("critical")
            assert queue.version == round_ + 2
            assert queue.description == f"writer {winner}"
