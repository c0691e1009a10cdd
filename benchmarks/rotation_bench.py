"""Rotation benchmark (issue 9). Run by hand: ``.venv/bin/python benchmarks/rotation_bench.py``.

Prints:
* ``rotate --due`` over N due ``generated`` secrets on SQLite (target: 1,000 in <= 10 s), and
  the same number of plain ``save`` calls in the same run as the baseline ratio;
* two concurrent ``blocks rotate --due`` processes on PostgreSQL: wall time, and that each
  block was rotated exactly once (exit 1 otherwise);
* ``load`` p50 of a rotated block (it has stage labels) against one that never rotated.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blocks import Registry, Secret, Settings
from blocks.rotation import Rotation, RotationPolicy

PG_URL = os.environ.get("BLOCKS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POLICY = RotationPolicy(rotator="generated", interval="1d")


def fill(reg: Registry, n: int, prefix: str = "s") -> list[str]:
    rot = Rotation(reg)
    refs = []
    for i in range(n):
        Secret(value=f"initial-value-{i:05d}").save(f"{prefix}{i}", registry=reg)
        rot.set_policy(f"secret/{prefix}{i}", POLICY)
        refs.append(f"secret/{prefix}{i}")
    return refs


def bench_due(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry(Settings(home=Path(tmp)))
        fill(reg, n)
        t0 = time.perf_counter()
        outcomes = Rotation(reg).rotate_due()
        due_s = time.perf_counter() - t0
        rotated = sum(o.status == "rotated" for o in outcomes)
        t0 = time.perf_counter()
        for i in range(n):
            reg.save(Secret(value=f"baseline-{i}"), f"s{i}", overwrite=True)
        save_s = time.perf_counter() - t0
        print(f"rotate --due, {n} generated secrets (SQLite): {due_s:.2f} s "
              f"({due_s / n * 1e3:.2f} ms each; {rotated} rotated; target <= 10 s for 1,000)")
        print(f"  baseline: {n} saves {save_s:.2f} s; one rotation = "
              f"{due_s / save_s:.1f}x one save")
        bench_load(reg)
        reg.close()


def bench_load(reg: Registry, samples: int = 3000) -> None:
    Secret(value="never-rotated").save("plain", registry=reg)

    def p50(ref: str) -> float:
        for _ in range(200):
            reg.load(ref)
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            reg.load(ref)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    rotated, plain = p50("secret/s0"), p50("secret/plain")
    print(f"load p50: rotated block {rotated:.3f} ms, never-rotated block {plain:.3f} ms "
          f"(ratio {rotated / plain:.2f}; loads read no stage labels)")


def bench_concurrent(n: int) -> bool:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.registry_fixtures import drop_schema, new_schema_url

    url, schema = new_schema_url(PG_URL)
    ok = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            reg = Registry(Settings(home=Path(tmp), database_url=url))
            refs = fill(reg, n)
            env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
            env.update(BLOCKS_HOME=tmp, BLOCKS_DATABASE_URL=url)
            t0 = time.perf_counter()
            procs = [subprocess.Popen(
                [sys.executable, "-m", "blocks.cli", "rotate", "--due", "--json"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
            outs = [p.communicate(timeout=900)[0] for p in procs]
            wall = time.perf_counter() - t0
            per = [[o["ref"] for o in json.loads(out) if o["status"] == "rotated"]
                   for out in outs]
            every = sorted(r for p in per for r in p)
            ok = every == sorted(refs)
            print(f"two concurrent rotate --due on PostgreSQL, {n} blocks: {wall:.2f} s, "
                  f"rotated {len(per[0])} + {len(per[1])}; each exactly once: {ok}")
            reg.close()
    finally:
        drop_schema(PG_URL, schema)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="due secrets (default 1000)")
    parser.add_argument("--pg-n", type=int, default=200, help="blocks for the PostgreSQL race")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    bench_due(args.n)
    if not args.no_postgres and not bench_concurrent(args.pg_n):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
