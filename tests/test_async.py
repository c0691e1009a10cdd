"""The async twins' fast path (blocks/_async.py, blocks/_nowait.py): ``aload`` reads on the
event loop only when no step would wait; a SQLite lock or a key-provider call moves it to a
worker thread, and the loop keeps running meanwhile."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import field_validator

from blocks import Block, Registry, Secret, Settings
from blocks.keys.local import LocalKeyProvider

TICKS_WHILE_HELD = 5
HOLD_LIMIT = 20.0  # seconds; only reached when the loop is blocked (the test then fails)


class Traced(Block):
    """Records the thread each load validates on."""

    value: str

    @field_validator("value")
    @classmethod
    def _record(cls, value: str) -> str:
        THREADS.append(threading.get_ident())
        return value


THREADS: list[int] = []  # thread ids, in load order


class GatedProvider(LocalKeyProvider):
    """A local key provider whose unwrap waits for ``gate`` while ``armed`` (a slow KMS)."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self.armed = threading.Event()
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        if self.armed.is_set():
            self.waiting.set()
            self.gate.wait(HOLD_LIMIT)
        return super().unwrap(wrapped, context)


async def load_while_ticking(load: object, release: threading.Event) -> tuple[object, int]:
    """Await ``load`` while a task ticks; ``release`` is set after TICKS_WHILE_HELD ticks.
    Returns the result and the ticks counted before the release."""
    ticks = 0
    at_release = -1

    async def ticker() -> None:
        nonlocal ticks, at_release
        while True:
            ticks += 1
            if ticks == TICKS_WHILE_HELD:
                at_release = ticks
                release.set()
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        result = await load  # type: ignore[misc]
    finally:
        task.cancel()
    return result, at_release


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for var in [v for v in os.environ if v.startswith("BLOCKS_")]:
        monkeypatch.delenv(var)
    THREADS.clear()
    yield tmp_path / "blocks"
    Registry.reset_default()


def test_aload_reads_on_the_loop_when_no_step_would_wait(home: Path) -> None:
    registry = Registry(Settings(home=home))
    Traced(value="inline").save("t", registry=registry)

    async def run() -> tuple[int, str]:
        block = await Traced.aload("t", registry=registry)
        return threading.get_ident(), block.value

    THREADS.clear()
    loop_thread, value = asyncio.run(run())
    assert value == "inline"
    assert set(THREADS) == {loop_thread}
    registry.close()


def test_aload_goes_to_a_worker_while_the_key_provider_is_slow_and_the_loop_runs(
    home: Path,
) -> None:
    provider = GatedProvider(os.urandom(32))
    registry = Registry(Settings(home=home, keyring_cache_seconds=0), key_provider=provider)
    Traced(value="after-kms").save("t", registry=registry)
    provider.armed.set()  # every load now re-reads the keyring from the "KMS"
    release = threading.Event()
    threading.Thread(target=lambda: release.wait(HOLD_LIMIT) and provider.gate.set(),
                     daemon=True).start()

    async def run() -> tuple[object, int, int]:
        block, ticks = await load_while_ticking(Traced.aload("t", registry=registry), release)
        return block, ticks, threading.get_ident()

    THREADS.clear()
    block, ticks, loop_thread = asyncio.run(run())
    assert provider.waiting.is_set()
    assert ticks == TICKS_WHILE_HELD  # the loop ran while the provider held the load
    assert block.value == "after-kms"  # type: ignore[attr-defined]
    assert THREADS and loop_thread not in THREADS
    registry.close()


def test_aload_goes_to_a_worker_while_sqlite_is_locked_and_the_loop_runs(home: Path) -> None:
    first = Registry(Settings(home=home))
    Secret(value="behind-a-lock").save("locked", registry=first)
    first.close()
    db = home / "blocks.db"
    # A database opened by another tool in rollback-journal mode, where a writer's EXCLUSIVE
    # lock keeps readers out (in WAL mode they never wait).
    setup = sqlite3.connect(db, isolation_level=None)
    assert setup.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    setup.close()
    registry = Registry(Settings(home=home))
    assert registry.load("secret/locked").get() == "behind-a-lock"  # type: ignore[attr-defined]

    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Event()

    def unlock() -> None:
        release.wait(HOLD_LIMIT)
        holder.execute("COMMIT")

    threading.Thread(target=unlock, daemon=True).start()

    async def run() -> tuple[object, int]:
        return await load_while_ticking(Secret.aload("locked", registry=registry), release)

    secret, ticks = asyncio.run(run())
    assert ticks == TICKS_WHILE_HELD  # the loop ran while the lock was held
    assert secret.get() == "behind-a-lock"  # type: ignore[attr-defined]
    holder.close()
    registry.close()


def test_without_waiting_refuses_first_use_set_up_and_leaves_the_sync_load_alone(
    home: Path,
) -> None:
    """A registry whose keys are not in memory yet must not set up on the loop."""
    registry = Registry(Settings(home=home))
    Secret(value="v").save("plain", registry=registry)
    from blocks._nowait import WouldBlock, without_waiting

    with without_waiting(), pytest.raises(WouldBlock):
        Registry(Settings(home=home)).load("secret/plain")  # a new registry: no keys yet
    assert registry.load("secret/plain").get() == "v"  # type: ignore[attr-defined]
    registry.close()
