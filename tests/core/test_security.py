"""At-rest security: ciphertexts are bound to their row, the master key is checked, and no
secret's plaintext reaches the database files."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from blocks import DecryptionError, KeyProviderError, Registry, Settings
from blocks.keys.local import LocalKeyProvider
from tests.core.models import TestCreds, TestService

SECRETS = ["pw-\u00e9-unique-7f3a", "hdr-token-unique-91bd", "blob-unique-c0ffee"]


def save_pair(registry: Registry) -> None:
    registry.save(TestCreds(user="bob", password=SECRETS[0], blob=SECRETS[2].encode(),
                            headers={"X": SECRETS[1]}), "a")
    registry.save(TestCreds(user="eve", password="other-pw"), "b")


def column(registry: Registry, sql: str, **params: object) -> object:
    with registry.store.engine.begin() as conn:
        return conn.execute(text(sql), params).scalar()


def test_ciphertext_moved_to_another_block_fails(registry: Registry) -> None:
    save_pair(registry)
    a, b = registry.summary("test-creds/a").id, registry.summary("test-creds/b").id
    with registry.store.engine.begin() as conn:
        row = conn.execute(text("SELECT term, wrapped_key, ciphertext FROM block_version "
                                "WHERE block_id = :a"), {"a": a}).one()
        conn.execute(text("UPDATE block_version SET term = :t, wrapped_key = :w, "
                          "ciphertext = :c WHERE block_id = :b"),
                     {"t": row.term, "w": row.wrapped_key, "c": row.ciphertext, "b": b})
    with pytest.raises(DecryptionError) as info:
        registry.load("test-creds/b")
    assert str(info.value) == DecryptionError.MESSAGE
    assert registry.load("test-creds/a").user == "bob"


def test_ciphertext_moved_to_another_version_fails(registry: Registry) -> None:
    registry.save(TestCreds(user="bob", password="v1"), "a")
    registry.save(TestCreds(user="bob", password="v2"), "a", overwrite=True)
    with registry.store.engine.begin() as conn:
        v1 = conn.execute(text("SELECT wrapped_key, ciphertext FROM block_version "
                               "WHERE version = 1")).one()
        conn.execute(text("UPDATE block_version SET wrapped_key = :w, ciphertext = :c "
                          "WHERE version = 2"), {"w": v1.wrapped_key, "c": v1.ciphertext})
    with pytest.raises(DecryptionError):
        registry.load("test-creds/a")


@pytest.mark.parametrize("col", ["ciphertext", "wrapped_key"])
def test_a_tampered_byte_fails(registry: Registry, col: str) -> None:
    save_pair(registry)
    blob = bytearray(column(registry, f"SELECT {col} FROM block_version LIMIT 1"))  # type: ignore[arg-type]
    blob[len(blob) // 2] ^= 0x40
    with registry.store.engine.begin() as conn:
        conn.execute(text(f"UPDATE block_version SET {col} = :v"), {"v": bytes(blob)})
    with pytest.raises(DecryptionError, match="altered or moved"):
        registry.load("test-creds/a")


def test_wrong_master_key_gives_a_clear_decryption_error(blocks_home: Path) -> None:
    url = f"sqlite:///{blocks_home / 'blocks.db'}"
    Registry(Settings(home=blocks_home, database_url=url)).save(
        TestCreds(user="bob", password="p"), "a")
    other = base64.b64encode(b"\x01" * 32).decode()
    wrong = Registry(Settings(home=blocks_home, database_url=url, master_key=other))
    with pytest.raises(DecryptionError, match="wrong master key"):
        wrong.load("test-creds/a")


def test_missing_master_key_file_is_not_silently_recreated(blocks_home: Path) -> None:
    Registry(Settings(home=blocks_home)).save(TestCreds(user="bob", password="p"), "a")
    (blocks_home / "master.key").unlink()
    with pytest.raises(KeyProviderError, match="master key file not found"):
        Registry(Settings(home=blocks_home)).load("test-creds/a")
    assert not (blocks_home / "master.key").exists()


def test_master_key_file_is_private_and_not_in_the_database(blocks_home: Path) -> None:
    reg = Registry(Settings(home=blocks_home))
    reg.save(TestCreds(user="bob", password="p"), "a")
    key_file = blocks_home / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    raw = base64.urlsafe_b64decode(key_file.read_text().strip())
    db = b"".join(p.read_bytes() for p in blocks_home.glob("blocks.db*"))
    assert raw not in db and key_file.read_text().strip().encode() not in db


def test_group_readable_master_key_file_is_refused(blocks_home: Path) -> None:
    blocks_home.mkdir(parents=True)
    path = blocks_home / "master.key"
    LocalKeyProvider.from_file(path, create=True)
    path.chmod(0o644)
    with pytest.raises(KeyProviderError, match="chmod 600"):
        LocalKeyProvider.from_file(path)


def test_no_secret_plaintext_in_sqlite_files(sqlite_registry: Registry, blocks_home: Path) -> None:
    save_pair(sqlite_registry)
    sqlite_registry.save(TestService(url="u", creds=TestCreds(user="x", password=SECRETS[0])),
                         "svc")
    for version in range(3):
        sqlite_registry.save(TestCreds(user="bob", password=f"{SECRETS[0]}-{version}"), "a",
                             overwrite=True)
    files = sorted(blocks_home.glob("blocks.db*"))
    assert files, "the database files exist"
    data = b"".join(p.read_bytes() for p in files)
    assert b"test-creds" in data  # sanity: we are reading the right files
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in data
        assert base64.b64encode(secret.encode()) not in data


@pytest.mark.postgres
def test_no_secret_plaintext_in_postgres_dump(pg_registry: Registry, pg_url: str) -> None:
    save_pair(pg_registry)
    schema = pg_url.rsplit("%3D", 1)[1]
    with pg_registry.store.engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})]
        assert "block_version" in tables
        dump = ""
        for table in tables:
            rows = conn.execute(text(f'SELECT t::text FROM "{schema}"."{table}" t')).all()
            dump += "\n".join(r[0] for r in rows)
    assert "test-creds" in dump
    for secret in SECRETS:
        assert secret not in dump
        assert secret.encode().hex() not in dump
        assert base64.b64encode(secret.encode()).decode() not in dump
    pg_dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", schema,
                              "test"], capture_output=True, text=True, check=False)
    if pg_dump.returncode == 0:
        assert "block_version" in pg_dump.stdout
        for secret in SECRETS:
            assert secret not in pg_dump.stdout
