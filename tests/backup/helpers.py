"""A registry holding one of everything a backup carries, and what to compare after a restore."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from blocks import Registry, Secret, Settings
from blocks.backup.container import Passphrase
from blocks.backup.dump import BackupResult, backup
from blocks.backup.restore import restore
from blocks.codec import to_display
from blocks.pools import WorkPool
from blocks.rotation import RotationPolicy, get_rotation, rotate
from blocks.store import chain
from blocks.types.aws import AwsCredentials
from blocks.types.s3 import S3Bucket

PASSPHRASE = Passphrase(b"correct horse battery staple")
AWS_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
API_SECRETS = [f"api-secret-value-{i}-0123456789" for i in range(3)]
PENDING_SECRET = "pending-secret-value-0123456789"
FINGERPRINT_KEY = secrets.token_hex(32)
ALL_SECRETS = [AWS_SECRET, *API_SECRETS, PENDING_SECRET, FINGERPRINT_KEY]
POLICY = RotationPolicy(rotator="generated", interval="30d", options={"length": 40})
FAST = 14  # scrypt log2(N) for tests: the format's smallest accepted cost


def populate(reg: Registry) -> None:
    """Blocks with history, stages, a reference, a rotation policy with events, pools with
    history, queues, a mirror row and the Terraform fingerprint key."""
    reg.save(AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key=AWS_SECRET),
             "prod")
    reg.save(S3Bucket(bucket_name="lake", credentials=reg.load("aws-credentials/prod")), "lake")
    for i, value in enumerate(API_SECRETS):
        reg.save(Secret(value=value), "api", overwrite=True, note=f"take {i}")
    reg.save(Secret(value=PENDING_SECRET), "api", stage="pending", overwrite=True)
    token = Secret(value="first-value-0123456789")
    token.rotation = POLICY
    token.save("tok", registry=reg)
    assert rotate("secret/tok", now=True, registry=reg).status == "rotated"
    reg.save(Secret(value=FINGERPRINT_KEY), "terraform-fingerprint-key")
    pool = WorkPool(name="proc", type="process", description="one").save(registry=reg)
    pool.description = "two"
    pool.save(registry=reg)
    pool.create_queue("critical", priority=2, registry=reg)
    WorkPool(name="k8s", type="kubernetes").save(registry=reg)
    from blocks.integrations.mirror_rows import write_rows

    write_rows(reg, reg.summary("aws-credentials/prod").id, "prefect",
                [{"target_name": "prod-copy"}])


def snapshot(reg: Registry) -> dict[str, Any]:
    """Everything a restore must keep, read through the public API where there is one."""
    out: dict[str, Any] = {"blocks": {}, "pools": {}}
    for summary in reg.list():
        ref = summary.ref
        head = reg._check_head(ref)
        versions = [(v.version, v.created_at, v.note, v.schema_checksum, to_display(
            reg.load(ref, version=v.version), show_secrets=True)) for v in reg.history(ref)]
        policy = get_rotation(ref, registry=reg)
        out["blocks"][ref] = {
            "id": summary.id, "created": summary.created_at, "updated": summary.updated_at,
            "current": summary.current_version, "stages": head.stage_map(),
            "versions": versions,
            "policy": None if policy is None else (policy.policy, policy.next_due_at,
                                                   policy.last_rotated_at, policy.event_seq),
        }
    for pool in WorkPool.list_pools(registry=reg):
        history = [p.model_dump() for p in WorkPool.history(pool.name, registry=reg)]
        queues = [q.model_dump() for q in pool.queues(registry=reg)]
        out["pools"][pool.name] = (history, queues)
    with reg.store.engine.connect() as conn:
        out["events"] = [(r[0], r[1], r[2], r[3], chain.at_text(r[4]), r[5], r[6]) for r in
                         conn.exec_driver_sql("SELECT seq, prev, kind, subject, at, actor, body "
                                              "FROM event_log ORDER BY seq")]
        out["mirrors"] = sorted(tuple(r) for r in conn.exec_driver_sql(
            "SELECT block_id, target, target_name, target_ref, pushed_version FROM block_mirror"))
    return out


def write_backup(reg: Registry, path: Path, **kw: Any) -> BackupResult:
    with open(path, "wb") as out:
        return backup(reg, out, kw.pop("key", PASSPHRASE), log2_n=FAST, **kw)


def read_backup(reg: Registry, path: Path, **kw: Any) -> BackupResult:
    with open(path, "rb") as src:
        return restore(reg, src, kw.pop("key", PASSPHRASE), where=str(path), **kw)


def new_registry(home: Path, database_url: str | None = None) -> Registry:
    """A registry with its own master key (another home)."""
    return Registry(Settings(home=home, database_url=database_url))


def chunk_offsets(data: bytes) -> list[int]:
    """Where each chunk frame of a backup starts (and where the file ends)."""
    from blocks.backup.container import MAGIC

    at = len(MAGIC)
    at += 4 + int.from_bytes(data[at:at + 4], "big")
    offsets = []
    while at < len(data):
        offsets.append(at)
        at += 5 + int.from_bytes(data[at + 1:at + 5], "big")
    return [*offsets, len(data)]
