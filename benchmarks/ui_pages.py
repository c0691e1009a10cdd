"""The web UI's pages with 1,000 blocks (issue 22: each under 200 ms of server time).

Run by hand: ``.venv/bin/python benchmarks/ui_pages.py [--blocks 1000] [--repeat 20]``.

Saves ``--blocks`` blocks (AWS credentials, S3 buckets referencing one of them, secrets; a
few versions of one) into a fresh SQLite registry, signs in through the sign-in form with an
admin token and with a token whose policy grants ``read-metadata`` on a pattern (so every
row of the list is checked against it), and prints each page's server time: the app is
called in-process over ASGI (no socket, no browser); the server time is the UI's
``Server-Timing`` header (request in to response start), p50 and max of ``--repeat``
requests, and the client's wall time beside it (it adds the test client's thread hops).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.testclient import TestClient

from blocks import Registry, Secret, Settings, WorkPool
from blocks.access import policies
from blocks.rotation_types.policy import RotationPolicy
from blocks.server.app import create_app
from blocks.types.aws import AwsCredentials
from blocks.types.s3 import S3Bucket

BASE = "http://127.0.0.1:23080"
LIMIT_MS = 200.0


def populate(reg: Registry, count: int) -> None:
    creds = AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x" * 40)
    reg.save(creds, "prod")
    for v in range(4):
        reg.save(AwsCredentials(aws_access_key_id=f"AKIA{v}", aws_secret_access_key="y" * 40),
                 "prod", overwrite=True, note=f"change {v}")
    shared = reg.load("aws-credentials/prod")
    for i in range(count - 1):
        if i % 3 == 0:
            reg.save(S3Bucket(bucket_name=f"bucket-{i:04d}", credentials=shared), f"lake-{i:04d}")
        elif i % 3 == 1:
            reg.save(AwsCredentials(aws_access_key_id=f"AKIA{i:04d}",
                                    aws_secret_access_key="z" * 40), f"team-{i:04d}")
        else:
            reg.save(Secret(value=f"secret-{i}"), f"app-{i:04d}")


def client_for(app: object, token: str) -> TestClient:
    client = TestClient(app, base_url=BASE)  # type: ignore[arg-type]
    answer = client.post("/ui/sign-in", data={"token": token},
                         headers={"origin": BASE}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, float, float]:
    """(server p50, server max, wall p50) in ms."""
    server, wall = [], []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        answer = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
        server.append(float(answer.headers["server-timing"].split("dur=")[1]))
    server, wall = server[1:], wall[1:]  # the first one warms the templates' cache
    return statistics.median(server), max(server), statistics.median(wall)


def main() -> int:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        reg = Registry(Settings(home=Path(home)))
        reg.init()
        started = time.perf_counter()
        populate(reg, args.blocks)
        print(f"saved {args.blocks} blocks in {time.perf_counter() - started:.1f} s")
        access = reg.access()
        access.put_policy("all", policies.parse("all", {"admin": True}))
        access.put_policy("meta", policies.parse("meta", {"blocks": {"*/*-0*": ["read-metadata"],
                                                                     "*/prod": ["read"]}}))
        rotation = reg.rotation("bench")
        for i in range(2, min(args.blocks, 300), 3):  # a policy on a hundred secrets
            rotation.set_policy(f"secret/app-{i:04d}",
                                RotationPolicy(rotator="generated", interval="30d"))
        for i in range(20):
            WorkPool(name=f"pool-{i:02d}", type="process").save(registry=reg)
        admin, _ = access.create_token("bench-admin", ["all"])
        meta, _ = access.create_token("bench-meta", ["meta"])
        app = create_app(reg)
        pages = [
            ("list, all types (page 1 of 10)", "/ui/blocks"),
            ("list, one type", "/ui/blocks?type=s3-bucket"),
            ("list, search", "/ui/blocks?q=lake-09"),
            ("list, last page", "/ui/blocks?page=10"),
            ("block page (5 versions, 333 referrers)", "/ui/blocks/aws-credentials/prod"),
            ("block page (a bucket)", "/ui/blocks/s3-bucket/lake-0000"),
            ("diff of two versions", "/ui/blocks/aws-credentials/prod/diff?a=1&b=5"),
            ("sign-in page", "/ui/sign-in"),
            ("new block: type picker", "/ui/blocks/new"),
            ("new block: S3Bucket form (a picker of credentials)", "/ui/blocks/new?type=s3-bucket"),
            ("edit a bucket", "/ui/blocks/s3-bucket/lake-0000/edit"),
            ("copy as", "/ui/blocks/aws-credentials/prod/copy-as"),
            ("rotation overview (100 policies)", "/ui/rotation"),
            ("rotation of one secret", "/ui/rotation/secret/app-0002"),
            ("work pools (20)", "/ui/pools"),
            ("one work pool", "/ui/pools/pool-00"),
            ("admin: tokens", "/ui/admin/tokens"),
            ("admin: policies", "/ui/admin/policies"),
            ("admin: audit trail", "/ui/admin/audit"),
        ]
        admin_only = ("diff", "/edit", "/copy-as", "/admin", "/rotation/", "/pools/", "/blocks/new")
        worst = 0.0
        for who, token in (("admin", admin), ("read-metadata on a pattern", meta)):
            client = client_for(app, token)
            print(f"\n{who}:")  # pages a read-metadata token may not open are left out
            for label, path in pages:
                if who != "admin" and any(part in path for part in admin_only):
                    continue
                p50, top, wall = timed(client, path, args.repeat)
                worst = max(worst, p50)
                print(f"  {label:40s} server p50 {p50:6.1f} ms  max {top:6.1f} ms"
                      f"  (client wall p50 {wall:6.1f} ms)")
        reg.close()
    verdict = "OK" if worst < LIMIT_MS else "OVER"
    print(f"\nslowest page, server time p50: {worst:.1f} ms (limit {LIMIT_MS:.0f} ms): {verdict}")
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
