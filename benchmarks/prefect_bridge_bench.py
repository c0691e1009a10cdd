"""Prefect bridge benchmark (issue 10).

Run by hand: ``.venv/bin/python benchmarks/prefect_bridge_bench.py``.

Starts a real Prefect 3.8 server (``tests/prefect_server.py``) and prints:
  * publish of N pools (each with two extra queues): first publish (creates), then a publish of
    the same, unchanged pools: its wall time, and its calls, all reads (two per pool);
    baseline: one ``GET /api/health`` per pool, measured in the same run;
  * import of M block documents (Secret, AwsCredentials, S3Bucket with a nested reference) on a
    fresh registry, then the rerun (no changes): wall time and documents per second.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Settings
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import block_type
from blocks.integrations.prefect.importer import import_blocks
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool
from tests.prefect_server import start_prefect


def bench_publish(client: PrefectClient, registry: Registry, count: int) -> None:
    tag = secrets.token_hex(2)
    pools = []
    for i in range(count):
        pool = WorkPool(name=f"bench-{tag}-{i}", type="process").save(registry=registry)
        pool.create_queue("critical", priority=2, registry=registry)
        pool.create_queue("bulk", priority=3, registry=registry)
        pools.append(pool)
    start = time.perf_counter()
    publish(client, pools, registry)
    created = time.perf_counter() - start
    client.calls.clear()
    start = time.perf_counter()
    again = publish(client, pools, registry)
    unchanged = time.perf_counter() - start
    calls, writes = len(client.calls), len(client.write_calls)
    start = time.perf_counter()
    for _ in range(count):
        client.health()
    floor = time.perf_counter() - start
    assert again.changes == [] and writes == 0
    print(f"publish {count} pools (3 queues each), first:      {created:7.2f} s")
    print(f"publish {count} unchanged pools:                  {unchanged:7.2f} s  "
          f"({calls} calls, {writes} writes, {calls / count:.1f} reads/pool)")
    print(f"  baseline {count} health checks:                  {floor:7.2f} s  "
          f"(ratio {unchanged / floor:.1f}x, i.e. {unchanged / floor / 2:.1f}x per read)")


def bench_import(client: PrefectClient, home: Path, count: int) -> None:
    tag = secrets.token_hex(2)
    secret_t, aws_t, s3_t = (block_type(client, s) for s in ("secret", "aws-credentials",
                                                              "s3-bucket"))
    assert secret_t and aws_t and s3_t
    made = 0
    while made < count:
        i = made
        aws = client.request("POST", "block_documents/", "aws", json={
            "name": f"b-aws-{tag}-{i}", "block_schema_id": aws_t.schema_id,
            "block_type_id": aws_t.type_id,
            "data": {"aws_access_key_id": "AKIABENCH", "aws_secret_access_key": f"s-{i}",
                     "region_name": "us-east-1",
                     "aws_client_parameters": {"verify": None, "endpoint_url": None}}})
        client.request("POST", "block_documents/", "s3", json={
            "name": f"b-s3-{tag}-{i}", "block_schema_id": s3_t.schema_id,
            "block_type_id": s3_t.type_id,
            "data": {"bucket_name": "bench", "credentials": {
                "$ref": {"block_document_id": aws["id"]}}}})
        client.request("POST", "block_documents/", "secret", json={
            "name": f"b-sec-{tag}-{i}", "block_schema_id": secret_t.schema_id,
            "block_type_id": secret_t.type_id, "data": {"value": f"v-{i}"}})
        made += 3
    registry = Registry(Settings(home=home / "import"))
    start = time.perf_counter()
    first = import_blocks(client, registry)
    took = time.perf_counter() - start
    start = time.perf_counter()
    again = import_blocks(client, registry)
    rerun = time.perf_counter() - start
    n = len(first.items)
    assert again.changed == []
    print(f"import {n} documents (first, {len(first.changed)} written): {took:7.2f} s  "
          f"({n / took:.0f} docs/s)")
    print(f"import {n} documents (rerun, no changes):     {rerun:7.2f} s  "
          f"({n / rerun:.0f} docs/s)")
    registry.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pools", type=int, default=100)
    parser.add_argument("--documents", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prefect-bench-") as tmp:
        server = start_prefect(Path(tmp))
        try:
            registry = Registry(Settings(home=Path(tmp) / "blocks"))
            with PrefectClient(server.extra["api_url"]) as client:
                bench_publish(client, registry, args.pools)
                bench_import(client, Path(tmp), args.documents)
            registry.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
