"""The issue's acceptance round trip: 1,000 blocks x 5 versions with references, rotation
policies and pools, SQLite -> PostgreSQL -> SQLite: same ids, every version loads, verify clean.
(Times and peak memory: ``benchmarks/backup_bench.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.pools import WorkPool
from blocks.rotation import RotationPolicy, rotate
from blocks.types.aws import AwsCredentials
from blocks.types.s3 import S3Bucket
from blocks.verify import verify
from tests.backup.helpers import new_registry, read_backup, write_backup

BLOCKS, VERSIONS = 1000, 5


def _fill(reg: Registry) -> None:
    reg.save(AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="k" * 40),
             "prod")
    creds = reg.load("aws-credentials/prod")
    for i in range(BLOCKS - 1):
        for v in range(VERSIONS):
            if i % 10 == 0:
                reg.save(S3Bucket(bucket_name=f"lake-{i}", credentials=creds), f"b{i:04d}",
                         overwrite=True)
                continue
            secret = Secret(value=f"value-{i}-{v}-0123456789")
            if v == 0 and i % 100 == 1:
                secret.rotation = RotationPolicy(rotator="generated", interval="30d",
                                                 options={"length": 40})
            reg.save(secret, f"b{i:04d}", overwrite=True)
        if i % 100 == 1:
            rotate(f"secret/b{i:04d}", now=True, registry=reg)
    for p in range(5):
        pool = WorkPool(name=f"pool-{p}", type="process").save(registry=reg)
        pool.description = "second"
        pool.save(registry=reg)
        pool.create_queue("high", priority=1, registry=reg)


def _shape(reg: Registry) -> list[tuple[str, str, list[int]]]:
    return [(s.ref, s.id, [v.version for v in reg.history(s.ref)]) for s in reg.list()]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_a_thousand_blocks_of_five_versions_there_and_back(
    sqlite_registry: Registry, pg_url: str, tmp_path: Path
) -> None:
    _fill(sqlite_registry)
    shape = _shape(sqlite_registry)
    assert sum(len(v) for _, _, v in shape) >= BLOCKS * VERSIONS
    pg = new_registry(tmp_path / "pg", pg_url)
    back = new_registry(tmp_path / "back")
    try:
        write_backup(sqlite_registry, tmp_path / "a.bkp")
        read_backup(pg, tmp_path / "a.bkp")
        report = verify(pg)  # opens every version
        assert report.ok and report.checked["versions"] == sum(len(v) for _, _, v in shape)
        assert _shape(pg) == shape
        write_backup(pg, tmp_path / "b.bkp")
        read_backup(back, tmp_path / "b.bkp")
        assert verify(back).ok and _shape(back) == shape
        assert [p.name for p in WorkPool.list_pools(registry=back)] == [
            f"pool-{p}" for p in range(5)]
    finally:
        pg.close()
        back.close()
