"""Moving a scheduled deployment to another pool, against Prefect's scheduler (a check, not a
speed figure).

Run by hand: ``.venv/bin/python benchmarks/prefect_move_race.py [--moves 30] [--load 3]``.

Prefect 3.8's scheduler reads a deployment's row and then its schedules in separate statements
and inserts the runs later, keyed by ``scheduled {deployment} {schedule} {date}``: a deploy that
moves the deployment to another pool, committed between the two reads, leaves runs of the new
schedule in the old pool's queue, where the new pool's workers never see them. This starts a
real Prefect server (``tests/prefect_server.py``), keeps ``--load`` processes busy (the race
needs a loaded server), moves a deployment with a 15-second cron between two pools ``--moves``
times and, 3-5 s after each move, counts the deployment's scheduled runs outside its queue:

* ``upsert``: Prefect's own ``POST /deployments/`` with the other pool (a move in place);
* ``deploy_rotation``: Blocks' ``blocks prefect deploy-rotation``, which creates a moved
  deployment anew (``blocks.integrations.prefect.deploy._forget_if_moving``); it also counts
  the scheduled runs of the deleted deployments left behind.

When ``upsert`` shows no run outside the queue on a newer Prefect, the race is fixed there and
the re-creation could go.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Settings
from blocks.errors import PrefectError
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.deploy import (
    DEPLOYMENT_NAME,
    ENTRYPOINT,
    FLOW_NAME,
    deploy_rotation,
)
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool
from tests.prefect_server import start_prefect

POOLS = ("move-a", "move-b")
CRON = "* * * * * */15"


def busy(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def scheduled(client: PrefectClient, deployment_ids: list[str]) -> list[dict[str, Any]]:
    return client.request("POST", "flow_runs/filter", "flow runs", json={  # type: ignore[no-any-return]
        "flow_runs": {"deployment_id": {"any_": deployment_ids},
                      "state": {"type": {"any_": ["SCHEDULED"]}}}})


def retried(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A loaded SQLite-backed Prefect server answers 503 now and then: try again."""
    for _ in range(10):
        try:
            return call()
        except PrefectError:
            time.sleep(1)
    return call()


def run(client: PrefectClient, registry: Registry, way: str, moves: int) -> None:
    flow = client.request("POST", "flows/", "flow", json={"name": FLOW_NAME})

    def upsert(pool: str) -> dict[str, Any]:
        return client.request("POST", "deployments/", "deployment", json={  # type: ignore[no-any-return]
            "name": DEPLOYMENT_NAME, "flow_id": flow["id"], "work_pool_name": pool,
            "entrypoint": ENTRYPOINT,
            "schedules": [{"schedule": {"cron": CRON, "timezone": "UTC"}, "active": True}]})

    def rotation(pool: str) -> dict[str, Any]:
        return deploy_rotation(client, registry, pool=pool, cron=CRON)

    move = upsert if way == "upsert" else rotation
    ids: list[str] = []
    bad_moves = most = 0
    for i in range(moves):
        dep = retried(partial(move, POOLS[i % 2]))
        ids.append(dep["id"])
        time.sleep(3 + (i % 7) * 0.29)  # the moves fall at different points of the loop
        outside = [r for r in scheduled(client, [dep["id"]])
                   if r["work_queue_id"] != dep["work_queue_id"]]
        bad_moves += bool(outside)
        most = max(most, len(outside))
    gone = sorted(set(ids) - {ids[-1]})
    left = f"; scheduled runs of the deleted deployments: {len(scheduled(client, gone))}" \
        if gone else ""
    print(f"{way:16} {moves} moves: {bad_moves} left runs outside the deployment's queue "
          f"(at most {most} after one move){left}", flush=True)
    client.request("DELETE", f"deployments/{ids[-1]}", "deployment")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=30, help="moves per way (default 30)")
    parser.add_argument("--load", type=int, default=3,
                        help="busy processes while moving (default 3)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="move-race-"))
    server = start_prefect(work)
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=busy, args=(stop,)) for _ in range(args.load)]
    registry = Registry(Settings(home=work / "blocks"))
    registry.init()
    try:
        with PrefectClient(f"{server.url}/api") as client:
            for name in POOLS:
                WorkPool(name=name, type="process").save(registry=registry)
                publish(client, [WorkPool.load(name, registry=registry)], registry)
            for burner in burners:
                burner.start()
            for way in ("upsert", "deploy_rotation"):
                run(client, registry, way, args.moves)
    finally:
        stop.set()
        for burner in burners:
            burner.join()
        registry.close()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
