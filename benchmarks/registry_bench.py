"""Registry benchmark (issue 2). Run by hand: ``.venv/bin/python benchmarks/registry_bench.py``.

Prints ``load`` p50/p95 with N blocks stored on SQLite and PostgreSQL, ``save`` p50 on SQLite,
and the wall time of a fresh process that imports blocks and loads one Secret.
Targets: load p50 <= 0.05 ms (SQLite), <= 1 ms (PostgreSQL); save p50 <= 1 ms (SQLite);
fresh import + first load <= 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blocks import Registry, Secret, Settings

PG_URL = os.environ.get("BLOCKS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fill(reg: Registry, n: int) -> list[str]:
    names = [f"b-{i:05d}" for i in range(n)]
    for name in names:
        reg.save(Secret(value=secrets.token_urlsafe(24)), name)
    return names


def bench_loads(reg: Registry, names: list[str], samples: int) -> tuple[float, float]:
    picks = [random.choice(names) for _ in range(samples)]
    for name in picks[:200]:
        reg.load(f"secret/{name}")
    times = []
    clock = time.perf_counter
    for name in picks:
        ref = f"secret/{name}"
        t0 = clock()
        reg.load(ref)
        times.append(clock() - t0)
    return pct(times, 0.5) * 1e3, pct(times, 0.95) * 1e3


def bench_saves(reg: Registry, samples: int) -> float:
    times = []
    for i in range(samples):
        block = Secret(value=f"v-{i}")
        t0 = time.perf_counter()
        reg.save(block, "save-bench", overwrite=True)
        times.append(time.perf_counter() - t0)
    return pct(times, 0.5) * 1e3


def fresh_process(home: Path, runs: int) -> float:
    env = {**os.environ, "BLOCKS_HOME": str(home)}
    code = "from blocks import Secret; Secret.load('x')"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        reg = Registry(Settings(home=home))
        names = fill(reg, args.blocks)
        p50, p95 = bench_loads(reg, names, args.samples)
        print(f"sqlite   load p50 {p50:.4f} ms  p95 {p95:.4f} ms  ({args.blocks} blocks)")
        print(f"sqlite   save p50 {bench_saves(reg, 1000):.4f} ms")
        reg.save(Secret(value="fresh"), "x")
        reg.close()
        print(f"fresh process import + first load: {fresh_process(home, 7) * 1e3:.0f} ms (median)")
        if not args.skip_postgres:
            import psycopg

            schema = f"bench_{secrets.token_hex(4)}"
            plain = PG_URL.replace("+psycopg", "")
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                pg = Registry(Settings(home=home, database_url=url))
                names = fill(pg, args.blocks)
                p50, p95 = bench_loads(pg, names, args.samples)
                print(f"postgres load p50 {p50:.4f} ms  p95 {p95:.4f} ms  ({args.blocks} blocks)")
                print(f"postgres save p50 {bench_saves(pg, 300):.4f} ms")
                pg.close()
            finally:
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
