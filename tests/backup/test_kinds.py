"""Every table is in backups or deliberately left out; a new sealed table slots in as one
``TableKind``; a backup with a kind this version does not know is refused whole."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.backup import kinds
from blocks.errors import BackupError
from blocks.store.sealing import KINDS as SEALED
from tests.backup.helpers import new_registry, read_backup, write_backup

NOT_BACKED_UP = {
    "keyring_term": "the target registry has its own keyring",
    "registry_state": "markers of the source's upgrades; the target records its restore",
    "sealed_census": "recounted on both sides",
    "alembic_version": "the target's own schema revision",
}


def test_every_table_is_backed_up_or_left_out_on_purpose(sqlite_registry: Registry) -> None:
    from sqlalchemy import inspect

    sqlite_registry.init()
    tables = set(inspect(sqlite_registry.store.engine).get_table_names())
    covered = {k.table for k in kinds.KINDS}
    missing = tables - covered - set(NOT_BACKED_UP)
    assert not missing, (f"tables not in backups: {sorted(missing)}; add a TableKind to "
                         "blocks/backup/kinds.py KINDS (or say here why it is left out)")
    assert {k.table for k in SEALED} - set(NOT_BACKED_UP) <= covered


def _token_kind() -> kinds.TableKind:
    """A table another part of Blocks might add: sealed rows, a timestamp, a foreign key."""
    from blocks.crypto import integrity

    return kinds.TableKind(
        "test-token", "test_token", ("id",), ("id", "block_id", "name", "created_at"),
        times=frozenset({"created_at"}),
        message=lambda r, _: lambda t: integrity.ref_message(r["id"], r["name"], r["block_id"],
                                                             t),
        describe=lambda r: f"token {r['name']!r}",
    )


def _make_table(reg: Registry) -> None:
    reg.init()
    with reg.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE test_token (id VARCHAR(36) PRIMARY KEY, block_id VARCHAR(36) "
            "NOT NULL REFERENCES block(id), name TEXT NOT NULL, created_at TIMESTAMP NOT NULL, "
            "mac_term INTEGER, mac BLOB)")


def test_a_new_table_slots_in_as_one_kind(sqlite_registry: Registry, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token_kind()
    monkeypatch.setattr(kinds, "KINDS", (*kinds.KINDS, token))
    monkeypatch.setattr(kinds, "BY_NAME", {k.name: k for k in kinds.KINDS})
    _make_table(sqlite_registry)
    info = Secret(value="owner-0123456789").save("owner", registry=sqlite_registry)
    term, mac = sqlite_registry.sealer.sign(
        token.message({"id": "t1", "name": "ci", "block_id": info.block_id}, None))  # type: ignore[arg-type]
    with sqlite_registry.store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO test_token VALUES ('t1', ?, 'ci', "
                             "'2026-01-02 03:04:05.000006', ?, ?)", (info.block_id, term, mac))
    write_backup(sqlite_registry, tmp_path / "b.bkp")
    target = new_registry(tmp_path / "t")
    _make_table(target)
    assert read_backup(target, tmp_path / "b.bkp").counts["test-token"] == 1
    with target.store.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT id, block_id, name, created_at, mac_term, mac "
                                   "FROM test_token").one()
    assert row[:3] == ("t1", info.block_id, "ci") and row[3].startswith("2026-01-02 03:04:05")
    assert target.sealer.valid(row[4], row[5], token.message(dict(zip(
        ("id", "block_id", "name"), row[:3], strict=True)), None))  # type: ignore[arg-type]
    assert row[5] != mac  # sealed under the target's keys
    # a tampered row of the new kind is refused by backup like any other
    with sqlite_registry.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE test_token SET name = 'admin'")
    with pytest.raises(Exception, match="token 'admin'"):
        write_backup(sqlite_registry, tmp_path / "c.bkp")
    target.close()


def test_a_kind_unknown_to_this_version_is_refused_whole(
    sqlite_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Secret(value="owner-0123456789").save("owner", registry=sqlite_registry)
    future = dataclasses.replace(kinds.BY_NAME["reference"], name="future-kind")
    monkeypatch.setattr(kinds, "KINDS", (*kinds.KINDS, future))
    Secret(value="a-0123456789").save("a", registry=sqlite_registry)
    from blocks.types.aws import AwsCredentials
    from blocks.types.s3 import S3Bucket

    sqlite_registry.save(AwsCredentials(aws_access_key_id="AKIA", aws_secret_access_key="k" * 20),
                         "c")
    sqlite_registry.save(S3Bucket(bucket_name="bkt", credentials=sqlite_registry.load(
        "aws-credentials/c")), "b")
    write_backup(sqlite_registry, tmp_path / "b.bkp")
    monkeypatch.undo()
    target = new_registry(tmp_path / "t")
    with pytest.raises(BackupError, match=r"kind .future-kind.*does not know"):
        read_backup(target, tmp_path / "b.bkp")
    assert target.list() == []
    target.close()
