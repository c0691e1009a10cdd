"""Keyring management on a real SQLite registry: rotate, rewrap, retire, rotate-master, purge."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Mapping

import pytest
from sqlalchemy import text

from blocks import Registry, Settings
from blocks.crypto import envelope
from blocks.crypto.keyring import TermRecord, term_context
from blocks.errors import (
    BlockNotFound,
    ConflictError,
    DecryptionError,
    KeyProviderError,
    KeyringError,
)
from blocks.key_management import KeyManager
from blocks.keys.base import KeyProvider
from blocks.keys.local import LocalKeyProvider
from blocks.types.system import Secret
from tests.servers import closed_port_url


class CountingProvider:
    """A local provider that counts master-key calls."""

    def __init__(self, inner: KeyProvider) -> None:
        self.inner = inner
        self.wraps = 0
        self.unwraps = 0

    name = property(lambda self: self.inner.name)
    key_id = property(lambda self: self.inner.key_id)
    endpoint = property(lambda self: self.inner.endpoint)

    def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        self.wraps += 1
        return self.inner.wrap(plaintext, context)

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        self.unwraps += 1
        return self.inner.unwrap(wrapped, context)

    def check(self) -> None:
        self.inner.check()


@pytest.fixture
def settings(registry: Registry) -> Settings:
    """The settings of the parametrised (SQLite, PostgreSQL) registry fixture."""
    return registry.settings


def _fill(registry: Registry, count: int, prefix: str = "s") -> None:
    for i in range(count):
        registry.save(Secret(value=f"value-{i}"), f"{prefix}{i}")


def _terms_of_versions(registry: Registry) -> dict[int | None, int]:
    with registry.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT term, COUNT(*) FROM block_version GROUP BY term"
        ).all()
    return {t: n for t, n in rows}


def _raw_terms(registry: Registry) -> list[tuple[int, bytes, str, str]]:
    with registry.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT term, wrapped_key, provider, key_id FROM keyring_term ORDER BY term"
        ).all()
    return [(t, bytes(w), p, k) for t, w, p, k in rows]


def _sql(registry: Registry, sql: str) -> list[tuple[object, ...]]:
    with registry.store.engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        return [tuple(r) for r in result.all()] if result.returns_rows else []


def test_rotate_adds_a_term_used_by_new_writes_while_old_terms_decrypt(
    registry: Registry,
) -> None:
    _fill(registry, 3, "old")
    keys = KeyManager(registry)
    assert keys.rotate() == 2
    _fill(registry, 2, "new")
    assert _terms_of_versions(registry) == {1: 3, 2: 2}
    assert registry.load("secret/old0").get() == "value-0"
    status = keys.status()
    assert [(t.term, t.versions, t.current) for t in status.terms] == [
        (1, 3, False), (2, 2, True)
    ]


def test_rewrap_moves_every_data_key_to_the_current_term_without_changing_documents(
    registry: Registry,
) -> None:
    _fill(registry, 25)
    before = dict(_sql(registry, "SELECT block_id, ciphertext FROM block_version"))
    keys = KeyManager(registry)
    keys.rotate()
    seen: list[tuple[int, int]] = []
    result = keys.rewrap(batch_size=7, progress=lambda d, t: seen.append((d, t)))
    assert (result.moved, result.failed, result.target_term) == (25, [], 2)
    assert seen[0] == (0, 25) and seen[-1] == (25, 25)
    assert _terms_of_versions(registry) == {2: 25}
    after = dict(_sql(registry, "SELECT block_id, ciphertext FROM block_version"))
    assert after == before  # documents untouched: only wrapped data keys moved
    for i in range(25):
        assert Registry(registry.settings).load(f"secret/s{i}").get() == f"value-{i}"


def test_rewrap_of_one_term_leaves_the_others(registry: Registry) -> None:
    keys = KeyManager(registry)
    _fill(registry, 2, "a")
    keys.rotate()
    _fill(registry, 3, "b")
    keys.rotate()
    assert keys.rewrap(term=2).moved == 3
    assert _terms_of_versions(registry) == {1: 2, 3: 3}
    with pytest.raises(KeyringError, match="current term"):
        keys.rewrap(term=3)
    with pytest.raises(KeyringError, match="does not exist"):
        keys.rewrap(term=9)


def test_rewrap_reports_an_altered_data_key_and_leaves_it(registry: Registry) -> None:
    _fill(registry, 3)
    keys = KeyManager(registry)
    keys.rotate()
    with registry.store.engine.begin() as conn:
        conn.execute(
            text("UPDATE block_version SET wrapped_key = :k WHERE block_id = "
                 "(SELECT id FROM block WHERE name = 's1')"),
            {"k": bytes(61)},
        )
    result = keys.rewrap()
    assert result.moved == 2 and result.failed == ["secret/s1 version 1"]
    assert _terms_of_versions(registry) == {1: 1, 2: 2}


def test_retire_is_refused_while_a_version_uses_the_term(registry: Registry) -> None:
    _fill(registry, 2)
    keys = KeyManager(registry)
    keys.rotate()
    with pytest.raises(KeyringError, match="still wraps the data keys of 2 version"):
        keys.retire(1)
    with pytest.raises(KeyringError, match="current term"):
        keys.retire(2)
    keys.rewrap()
    keys.retire(1)
    assert [t.term for t in keys.status().terms] == [2]
    assert Registry(registry.settings).load("secret/s0").get() == "value-0"


def test_keyring_is_unwrapped_once_not_per_load(settings: Settings) -> None:
    provider = CountingProvider(LocalKeyProvider(os.urandom(32)))
    reg = Registry(settings, key_provider=provider)
    _fill(reg, 50)
    reader = CountingProvider(provider.inner)
    reg2 = Registry(settings, key_provider=reader)
    for _ in range(3):
        for i in range(50):
            reg2.load(f"secret/s{i}")
    assert (reader.wraps, reader.unwraps) == (0, 1)


def test_rotate_master_touches_only_the_terms(settings: Settings) -> None:
    old = CountingProvider(LocalKeyProvider(os.urandom(32)))
    reg = Registry(settings, key_provider=old)
    _fill(reg, 200)
    KeyManager(reg).rotate()
    new = CountingProvider(LocalKeyProvider(os.urandom(32), source="new"))
    old.unwraps = 0
    done = KeyManager(reg).rotate_master(new)
    assert done.terms == 2
    assert old.unwraps == 2 and new.wraps == 2  # plus new's own health check
    fresh = Registry(settings, key_provider=new.inner)
    assert fresh.load("secret/s199").get() == "value-199"
    with pytest.raises(DecryptionError):
        Registry(settings, key_provider=old.inner).load("secret/s0")


def test_rotate_master_to_an_unreachable_provider_changes_nothing(
    registry: Registry,
) -> None:
    _fill(registry, 3)
    before = _raw_terms(registry)
    from blocks.keys.vault_transit import VaultTransitKeyProvider

    down = VaultTransitKeyProvider(closed_port_url(), "blocks", token="t")
    with pytest.raises(KeyProviderError) as info:
        KeyManager(registry).rotate_master(down)
    assert info.value.provider == "vault-transit"
    assert _raw_terms(registry) == before
    assert Registry(registry.settings).load("secret/s2").get() == "value-2"


def test_rotate_master_failing_half_way_changes_nothing(registry: Registry) -> None:
    _fill(registry, 2)
    keys = KeyManager(registry)
    keys.rotate()
    keys.rotate()
    before = _raw_terms(registry)

    class FailsOnSecondTerm(CountingProvider):
        def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
            if context.get("term") == "2":
                raise KeyProviderError("local", "test", "refused")
            return super().wrap(plaintext, context)

    with pytest.raises(KeyProviderError):
        keys.rotate_master(FailsOnSecondTerm(LocalKeyProvider(os.urandom(32))))
    assert _raw_terms(registry) == before
    assert Registry(registry.settings).load("secret/s1").get() == "value-1"


def test_a_stale_process_cannot_add_a_term_under_a_replaced_master_key(
    settings: Settings,
) -> None:
    old_key = LocalKeyProvider(os.urandom(32))
    stale = Registry(settings, key_provider=old_key)
    _fill(stale, 1)
    admin = Registry(settings, key_provider=old_key)
    KeyManager(admin).rotate_master(LocalKeyProvider(os.urandom(32)))
    with pytest.raises(DecryptionError):  # its re-read notices the changed wrapping
        KeyManager(stale).rotate()
    # and the store refuses the insert itself, for a process that raced past that re-read
    record = TermRecord(2, old_key.wrap(os.urandom(32), term_context(2)), "local", old_key.key_id)
    with pytest.raises(KeyringError, match=r"record names the master key 'local sha256:"):
        stale.store.insert_term(record)
    assert [t[0] for t in _raw_terms(admin)] == [1]


def test_wrong_provider_names_the_keyring_master_key(settings: Settings) -> None:
    reg = Registry(settings)
    _fill(reg, 1)
    from blocks.keys.vault_transit import VaultTransitKeyProvider

    class FakeRemote(LocalKeyProvider):
        name = "vault-transit"  # type: ignore[assignment]

    assert VaultTransitKeyProvider  # the real one is exercised in test_migration.py
    other = Registry(settings, key_provider=FakeRemote(os.urandom(32)))
    with pytest.raises(KeyringError, match=r"wrapped by 'local sha256:"):
        other.load("secret/s0")


def test_purged_version_can_never_be_opened_again(sqlite_registry: Registry) -> None:
    registry = sqlite_registry
    registry.save(Secret(value="first-secret-value"), "api")
    registry.save(Secret(value="second"), "api", overwrite=True)
    db = registry.settings.home / "blocks.db"
    with sqlite3.connect(db) as conn:
        block_id, term, wrapped, backup_ciphertext = conn.execute(
            "SELECT v.block_id, v.term, v.wrapped_key, v.ciphertext FROM block_version v "
            "WHERE v.version = 1"
        ).fetchone()
    aad = envelope.binding(block_id, "secret", 1)
    assert registry.keyring.unwrap_data_key(term, wrapped, aad)  # opens before the purge

    KeyManager(registry).purge("secret/api", 1)

    with pytest.raises(BlockNotFound, match="purged"):
        Registry(registry.settings).load("secret/api", version=1)
    assert registry.load("secret/api").get() == "second"
    assert [v.shredded for v in registry.history("secret/api")] == [True, False]
    # Nobody can open the backup copy of the ciphertext: no wrapped data key in the database
    # belongs to it, whatever term and master key one holds...
    with sqlite3.connect(db) as conn:
        remaining = conn.execute(
            "SELECT term, wrapped_key FROM block_version WHERE wrapped_key IS NOT NULL"
        ).fetchall()
    for t, w in remaining:
        with pytest.raises(DecryptionError):
            registry.keyring.unwrap_data_key(t, w, aad)
    # ... and the wrapped key's bytes are gone from the files once the WAL is checkpointed.
    registry.close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob("blocks.db*"))
    assert wrapped not in on_disk and backup_ciphertext not in on_disk


def test_deleting_a_block_shreds_every_data_key(sqlite_registry: Registry) -> None:
    registry = sqlite_registry
    registry.save(Secret(value="a"), "gone")
    registry.save(Secret(value="b"), "gone", overwrite=True)
    db = registry.settings.home / "blocks.db"
    with sqlite3.connect(db) as conn:
        wrapped = [w for (w,) in conn.execute("SELECT wrapped_key FROM block_version")]
    registry.delete("secret/gone", recovery_window=0)
    registry.close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob("blocks.db*"))
    assert all(w not in on_disk for w in wrapped)


def test_purge_refuses_the_current_version(registry: Registry) -> None:
    registry.save(Secret(value="a"), "one")
    with pytest.raises(ConflictError, match="current version"):
        KeyManager(registry).purge("secret/one", 1)
    with pytest.raises(BlockNotFound):
        KeyManager(registry).purge("secret/one", 7)


def test_rewrap_is_safe_with_concurrent_readers_and_writers(settings: Settings) -> None:
    reg = Registry(settings)
    _fill(reg, 300)
    KeyManager(reg).rotate()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        mine = Registry(settings)
        try:
            while not stop.is_set():
                for i in range(0, 300, 7):
                    assert mine.load(f"secret/s{i}").get() == f"value-{i}"
        except BaseException as exc:
            errors.append(exc)

    def writer() -> None:
        mine = Registry(settings)
        try:
            n = 0
            while not stop.is_set():
                mine.save(Secret(value=f"w{n}"), f"w{n % 20}", overwrite=True)
                n += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    try:
        result = KeyManager(Registry(settings)).rewrap(batch_size=10)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert result.moved >= 300 and not result.failed
    KeyManager(Registry(settings)).rewrap()  # pick up stragglers from cached-term writers
    assert set(_terms_of_versions(reg)) == {2}
    for i in range(300):
        assert Registry(settings).load(f"secret/s{i}").get() == f"value-{i}"


def test_keyring_term_context_is_stable() -> None:
    assert term_context(3) == {"purpose": "blocks-keyring-term", "term": "3"}
