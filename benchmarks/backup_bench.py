"""Backup and restore (issue 23). Run by hand: ``.venv/bin/python benchmarks/backup_bench.py``.

Prints, for 1,000 blocks x 5 versions (5,000 real saves) plus references, rotation policies
with events, pools and queues: the time and peak memory (Python allocations, tracemalloc) of
``backup`` and ``restore`` SQLite -> PostgreSQL and PostgreSQL -> SQLite, the file's size, and
the time of ``blocks verify`` on the restored registry. PostgreSQL is
``BLOCKS_TEST_POSTGRES_URL`` (default: the local trust-auth server), in a new schema dropped
afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Secret, Settings
from blocks.backup.container import Passphrase
from blocks.backup.dump import backup
from blocks.backup.restore import restore
from blocks.pools import WorkPool
from blocks.rotation import RotationPolicy, rotate
from blocks.types.aws import AwsCredentials
from blocks.types.s3 import S3Bucket
from blocks.verify import verify
from tests.peak_memory import settle_free_lists
from tests.registry_fixtures import drop_schema, new_schema_url, postgres_base_url

KEY = Passphrase(b"benchmark passphrase, not a secret")


def populate(reg: Registry, blocks: int, versions: int) -> None:
    reg.save(AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x" * 40),
             "prod")
    creds = reg.load("aws-credentials/prod")
    for i in range(blocks - 1):
        if i % 10 == 0:  # one in ten references the credentials
            for _ in range(versions):
                reg.save(S3Bucket(bucket_name=f"lake-{i}", credentials=creds), f"b{i:04d}",
                         overwrite=True)
            continue
        for v in range(versions):
            secret = Secret(value=f"value-{i}-{v}-" + "s" * 64)
            if v == 0 and i % 50 == 1:
                secret.rotation = RotationPolicy(rotator="generated", interval="30d",
                                                 options={"length": 40})
            reg.save(secret, f"b{i:04d}", overwrite=True)
        if i % 50 == 1:
            rotate(f"secret/b{i:04d}", now=True, registry=reg)
    for p in range(10):
        pool = WorkPool(name=f"pool-{p}", type="process").save(registry=reg)
        pool.description = "second version"
        pool.save(registry=reg)
        pool.create_queue("high", priority=1, registry=reg)


def measure(label: str, work: Any) -> Any:
    settle_free_lists()  # the peak is the work's, not the interpreter's reusable tuples
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = work()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"{label:<34} {time.perf_counter() - started:7.2f} s   peak {peak / 2**20:6.2f} MiB")
    return result


def trip(source: Registry, target: Registry, path: Path, label: str) -> None:
    with open(path, "wb") as out:
        made = measure(f"backup {label}", lambda: backup(source, out, KEY))
    print(f"{'':<34} {made.counts['version']} versions, file {path.stat().st_size:,} bytes")
    with open(path, "rb") as src:
        measure(f"restore {label}", lambda: restore(target, src, KEY))
    started = time.perf_counter()
    report = verify(target)
    print(f"{'verify (restored)':<34} {time.perf_counter() - started:7.2f} s   ok={report.ok}")
    assert report.ok, report.problems[:5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()
    base = postgres_base_url()
    url, schema = new_schema_url(base)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            sqlite = Registry(Settings(home=root / "a"))
            started = time.perf_counter()
            populate(sqlite, args.blocks, args.versions)
            print(f"{'set-up (real saves)':<34} {time.perf_counter() - started:7.2f} s")
            pg = Registry(Settings(home=root / "b", database_url=url))
            trip(sqlite, pg, root / "a.bkp", "SQLite -> PostgreSQL")
            back = Registry(Settings(home=root / "c"))
            trip(pg, back, root / "b.bkp", "PostgreSQL -> SQLite")
            for reg in (sqlite, pg, back):
                reg.close()
    finally:
        drop_schema(base, schema)


if __name__ == "__main__":
    main()
