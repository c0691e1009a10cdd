"""Prefect drop-in benchmark (issue 11). Run by hand from the repository root:
``.venv/bin/python benchmarks/prefect_dropin_bench.py`` (starts a local Prefect server unless
``--prefect-api-url`` names one).

Prints, all measured in this run on the same machine, for each of ``--rounds`` rounds (with
the load average, as the machine is shared; within a round the variants are sampled in turn,
so a change of machine load hits them alike):
* sync ``Secret.load`` p50 (SQLite registry; called on the loop, which it blocks);
* ``await Secret.aload`` p50 (the shipped path: on the loop when no step would wait, see
  ``blocks/_nowait.py``), and the alternatives measured for the choice: our worker threads
  (``run_sync``, the fallback when a step would wait) and ``asyncio.to_thread``;
* Prefect's ``await Secret.aload`` p50 against the local Prefect server.
Targets: aload p50 <= 2x sync load p50; aload >= 100x faster than Prefect's aload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


async def bench_interleaved(
    calls: dict[str, Callable[[], Awaitable[object]]], n: int, warm: int = 200
) -> dict[str, float]:
    """p50 of each call, sampled in turn (so a change of machine load hits all alike)."""
    for _ in range(warm):
        for call in calls.values():
            await call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            t0 = time.perf_counter()
            await call()
            times[name].append(time.perf_counter() - t0)
    return {name: p50(samples) for name, samples in times.items()}


async def bench_async(aload: Callable[[], Awaitable[object]], n: int, warm: int = 200) -> float:
    for _ in range(warm):
        await aload()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await aload()
        times.append(time.perf_counter() - t0)
    return p50(times)


async def inline(load: Callable[[], object]) -> object:
    return load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--prefect-samples", type=int, default=300)
    parser.add_argument("--prefect-api-url", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="blocks-dropin-bench-") as tmp:
        work = Path(tmp)
        server = None
        api_url = args.prefect_api_url
        if api_url is None:
            from tests.prefect_server import start_prefect

            print("starting a local Prefect server ...", flush=True)
            server = start_prefect(work / "prefect")
            api_url = server.extra["api_url"]
        try:
            run(args, work, api_url)
        finally:
            if server is not None:
                server.stop()


def run(args: argparse.Namespace, work: Path, api_url: str) -> None:
    from blocks import Registry, Secret, Settings
    from blocks._async import run_sync

    registry = Registry(Settings(home=work / "blocks"))
    Secret(value="s3cr3t-bench").save("bench", registry=registry)

    def load() -> object:
        return Secret.load("bench", registry=registry)

    async def ours() -> dict[str, float]:
        return await bench_interleaved({
            "sync": lambda: inline(load),  # the sync load, timed around the call alone
            "aload": lambda: Secret.aload("bench", registry=registry),
            "workers": lambda: run_sync(load),
            "to_thread": lambda: asyncio.to_thread(load),
        }, args.samples)

    rounds = []
    for _ in range(args.rounds):
        figures = asyncio.run(ours())
        rounds.append((os.getloadavg()[0], figures["sync"], figures))

    os.environ["PREFECT_API_URL"] = api_url
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-client"))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.blocks.system import Secret as PrefectSecret

    PrefectSecret(value="s3cr3t-bench").save("bench", overwrite=True)

    async def theirs() -> float:
        return await bench_async(lambda: PrefectSecret.aload("bench"), args.prefect_samples,
                                 warm=20)

    prefect_p50 = asyncio.run(theirs())

    for number, (load_avg, sync_p50, figures) in enumerate(rounds, 1):
        print(f"round {number} (load average {load_avg:.2f})")
        print(f"  sync load p50                     {sync_p50:8.4f} ms")
        print(f"  aload p50 (shipped)               {figures['aload']:8.4f} ms  "
              f"= {figures['aload'] / sync_p50:.2f}x sync load (target <= 2x)")
        print(f"    alternative: our worker threads {figures['workers']:8.4f} ms  "
              f"= {figures['workers'] / sync_p50:.2f}x")
        print(f"    alternative: asyncio.to_thread  {figures['to_thread']:8.4f} ms  "
              f"= {figures['to_thread'] / sync_p50:.2f}x")
        print(f"  Prefect aload p50 (local server)  {prefect_p50:8.4f} ms  "
              f"= {prefect_p50 / figures['aload']:.0f}x our aload (target >= 100x)")
    registry.close()


if __name__ == "__main__":
    main()
