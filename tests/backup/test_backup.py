"""``blocks backup`` / ``blocks restore``: round trips between SQLite and PostgreSQL, and every
way a backup file or a target registry can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.backup.container import Passphrase
from blocks.errors import BackupError, IntegrityError, RegistryNotEmpty
from blocks.verify import verify
from tests.backup.helpers import (
    ALL_SECRETS,
    chunk_offsets,
    new_registry,
    populate,
    read_backup,
    snapshot,
    write_backup,
)


def _round_trip(source: Registry, target: Registry, path: Path) -> None:
    populate(source)
    before = snapshot(source)
    made = write_backup(source, path)
    assert made.counts["block"] == 5 and made.counts["version"] == 9
    done = read_backup(target, path)
    assert done.counts == {k: v for k, v in made.counts.items() if v}
    report = verify(target)
    assert report.ok, report.problems
    assert snapshot(target) == before
    assert target.keyring.provider.key_id != source.keyring.provider.key_id  # its own keys
    # the restored registry works on: a save, a rotation and a pool change re-use its chains
    Secret(value="after-restore-0123456789").save("api", overwrite=True, registry=target)
    from blocks.rotation import rotate

    assert rotate("secret/tok", now=True, registry=target).status == "rotated"
    assert verify(target).ok


@pytest.mark.postgres
def test_round_trip_sqlite_to_postgres(sqlite_registry: Registry, pg_url: str,
                                       tmp_path: Path) -> None:
    target = new_registry(tmp_path / "pg-home", pg_url)
    try:
        _round_trip(sqlite_registry, target, tmp_path / "b.bkp")
    finally:
        target.close()


@pytest.mark.postgres
def test_round_trip_postgres_to_sqlite(pg_registry: Registry, tmp_path: Path) -> None:
    target = new_registry(tmp_path / "sqlite-home")
    try:
        _round_trip(pg_registry, target, tmp_path / "b.bkp")
    finally:
        target.close()


@pytest.fixture
def made(sqlite_registry: Registry, tmp_path: Path) -> Path:
    """A backup of a populated SQLite registry."""
    populate(sqlite_registry)
    path = tmp_path / "b.bkp"
    write_backup(sqlite_registry, path)
    return path


@pytest.fixture
def target(tmp_path: Path) -> Registry:
    reg = new_registry(tmp_path / "target")
    yield reg
    reg.close()


def _empty(reg: Registry) -> bool:
    from blocks.backup.restore import holdings

    return not holdings(reg)


def test_no_secret_is_in_the_file_in_plain(made: Path) -> None:
    data = made.read_bytes()
    for secret in ALL_SECRETS:
        assert secret.encode() not in data
        assert secret.encode().hex().encode() not in data
    assert b"aws-credentials" not in data and b"proc" not in data  # names are encrypted too


def test_a_wrong_passphrase_is_named_and_writes_nothing(made: Path, target: Registry) -> None:
    with pytest.raises(BackupError, match="does not open with this passphrase"):
        read_backup(target, made, key=Passphrase(b"not the passphrase at all"))


@pytest.mark.parametrize("where", ["header", "first-chunk", "last-chunk", "tag"])
def test_a_flipped_byte_is_refused_and_nothing_is_written(
    made: Path, target: Registry, where: str
) -> None:
    data = bytearray(made.read_bytes())
    offsets = chunk_offsets(bytes(data))
    at = {"header": offsets[0] - 3, "first-chunk": offsets[0] + 40,
          "last-chunk": offsets[-2] + 10, "tag": len(data) - 1}[where]
    data[at] ^= 0x01
    made.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        read_backup(target, made)
    assert _empty(target)


def test_a_truncated_file_is_refused_at_a_chunk_boundary_and_inside_one(
    sqlite_registry: Registry, target: Registry, tmp_path: Path
) -> None:
    populate(sqlite_registry)
    for i in range(60):  # enough data for several 64 KiB chunks
        sqlite_registry.save(Secret(value=f"{i:04d}" + "x" * 3000), f"bulk-{i}")
    path = tmp_path / "b.bkp"
    write_backup(sqlite_registry, path)
    data = path.read_bytes()
    offsets = chunk_offsets(data)
    assert len(offsets) >= 4
    for cut in (offsets[1], offsets[-2], offsets[-2] + 100, len(data) - 1, offsets[0]):
        path.write_bytes(data[:cut])
        with pytest.raises(BackupError, match="truncated"):
            read_backup(target, path)
        assert _empty(target)
    path.write_bytes(data + b"\x00")
    with pytest.raises(BackupError, match="follows its final chunk"):
        read_backup(target, path)
    # chunks swapped: each is bound to its place
    first, second = data[offsets[0]:offsets[1]], data[offsets[1]:offsets[2]]
    path.write_bytes(data[:offsets[0]] + second + first + data[offsets[2]:])
    with pytest.raises(BackupError, match="does not authenticate"):
        read_backup(target, path)
    assert _empty(target)
    path.write_bytes(data)
    assert read_backup(target, path).counts["block"] == 65
    assert verify(target).ok


def test_a_non_empty_registry_is_refused(made: Path, target: Registry) -> None:
    Secret(value="mine-0123456789").save("mine", registry=target)
    with pytest.raises(RegistryNotEmpty, match=r"is not empty.*1 block record"):
        read_backup(target, made)
    assert [s.ref for s in target.list()] == ["secret/mine"]


def test_a_rerun_of_a_completed_restore_does_nothing(made: Path, target: Registry) -> None:
    first = read_backup(target, made)
    before = snapshot(target)
    again = read_backup(target, made)
    assert again.already and again.backup_id == first.backup_id
    assert snapshot(target) == before
    assert verify(target).ok


def test_another_backup_into_a_restored_registry_is_refused(
    made: Path, target: Registry, sqlite_registry: Registry, tmp_path: Path
) -> None:
    read_backup(target, made)
    other = tmp_path / "other.bkp"
    write_backup(sqlite_registry, other)  # same registry, another backup (another id)
    with pytest.raises(RegistryNotEmpty):
        read_backup(target, other)


def test_a_registry_that_does_not_verify_is_not_backed_up(
    sqlite_registry: Registry, tmp_path: Path
) -> None:
    populate(sqlite_registry)
    with sqlite_registry.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE block SET current_version = 1 WHERE name = 'api'")
    with pytest.raises(IntegrityError, match="secret/api"):
        write_backup(sqlite_registry, tmp_path / "b.bkp")


def test_a_deleted_block_row_is_caught_by_the_census(
    sqlite_registry: Registry, tmp_path: Path
) -> None:
    populate(sqlite_registry)
    with sqlite_registry.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM block WHERE name = 'terraform-fingerprint-key'")
    with pytest.raises(IntegrityError, match="census of secret blocks"):
        write_backup(sqlite_registry, tmp_path / "b.bkp")


def test_an_event_removed_from_the_chain_is_caught(
    sqlite_registry: Registry, tmp_path: Path
) -> None:
    populate(sqlite_registry)
    with sqlite_registry.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM event_log WHERE seq = 2")
    with pytest.raises(IntegrityError, match="event log"):
        write_backup(sqlite_registry, tmp_path / "b.bkp")


def test_a_purged_version_stays_purged(sqlite_registry: Registry, target: Registry,
                                       tmp_path: Path) -> None:
    from blocks.key_management import KeyManager

    for value in API_VALUES:
        sqlite_registry.save(Secret(value=value), "p", overwrite=True)
    KeyManager(sqlite_registry).purge("secret/p", 1)
    write_backup(sqlite_registry, tmp_path / "b.bkp")
    read_backup(target, tmp_path / "b.bkp")
    assert verify(target).ok
    assert target.load("secret/p", version=2).get() == API_VALUES[1]
    with pytest.raises(Exception, match="purged"):
        target.load("secret/p", version=1)


API_VALUES = ["purge-me-0123456789", "keep-me-0123456789"]


def test_a_document_larger_than_a_chunk_round_trips(sqlite_registry: Registry,
                                                    target: Registry, tmp_path: Path) -> None:
    big = "".join(f"{i:07d}" for i in range(40_000))  # 280 KB: spans five chunks
    sqlite_registry.save(Secret(value=big), "big")
    sqlite_registry.save(Secret(value="small-0123456789"), "small")
    write_backup(sqlite_registry, tmp_path / "b.bkp")
    assert len(chunk_offsets((tmp_path / "b.bkp").read_bytes())) >= 6
    read_backup(target, tmp_path / "b.bkp")
    assert target.load("secret/big").get() == big
    assert verify(target).ok


@pytest.mark.postgres
def test_a_file_cut_short_leaves_a_postgres_registry_empty(
    sqlite_registry: Registry, pg_url: str, tmp_path: Path
) -> None:
    populate(sqlite_registry)
    for i in range(40):
        sqlite_registry.save(Secret(value=f"{i:04d}" + "x" * 3000), f"bulk-{i}")
    made = tmp_path / "b.bkp"
    write_backup(sqlite_registry, made)
    data = made.read_bytes()
    offsets = chunk_offsets(data)
    assert len(offsets) >= 4  # the cut comes after chunks whose records were inserted
    made.write_bytes(data[:offsets[-2]])  # every chunk but the final one
    target = new_registry(tmp_path / "pg", pg_url)
    try:
        with pytest.raises(BackupError, match="truncated"):
            read_backup(target, made)
        assert _empty(target) and target.list() == []
        made.write_bytes(data)
        read_backup(target, made)
        assert verify(target).ok and len(target.list()) == 45
    finally:
        target.close()


def test_a_header_asking_for_a_huge_kdf_cost_is_refused(made: Path, target: Registry) -> None:
    import json
    import struct

    from blocks.backup.container import MAGIC

    data = made.read_bytes()
    length = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])[0]
    start = len(MAGIC) + 4
    header = json.loads(data[start:start + length])
    header["key"]["log2_n"] = 30  # 128 GiB of scrypt memory
    raw = json.dumps(header).encode()
    made.write_bytes(MAGIC + struct.pack(">I", len(raw)) + raw + data[start + length:])
    with pytest.raises(BackupError, match="unsupported key derivation"):
        read_backup(target, made)
    made.write_bytes(b"PK\x03\x04 not a backup")
    with pytest.raises(BackupError, match="is not a Blocks backup"):
        read_backup(target, made)
    assert _empty(target)
