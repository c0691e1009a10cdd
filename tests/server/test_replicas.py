"""Stateless replicas: two ``blocks server run`` processes over one PostgreSQL schema.

* A write through one replica is read through the other at once (no cache answers from memory
  without checking the stored version).
* Fail-over: the client has both URLs in ``BLOCKS_API_URL``; one replica is SIGKILLed while N
  loads run: no load fails beyond the client's retries. Concurrent compare-and-set writers
  through both replicas lose no write: the final version is the number of writes that
  committed, and every successful write's value is in the history at its version.

Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks.errors import BlocksError, ConflictError
from blocks.types import Secret
from tests.registry_fixtures import drop_schema, new_schema_url, require_postgres
from tests.server_process import (
    ServerProcess,
    init_server,
    launch,
    remote_registry,
    require_server_extra,
    server_env,
)

LOADS = 300
WRITERS = 4
WRITES_EACH = 15
TIME_BOUND = 120.0


@pytest.fixture(autouse=True)
def _server_extra() -> None:
    require_server_extra()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[list[ServerProcess], str]]:
    """Two replicas over one fresh PostgreSQL schema, and an admin token."""
    base = require_postgres()
    url, schema = new_schema_url(base)
    env = server_env(home=str(tmp_path / "home"), database_url=url)
    token = init_server(env)
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            servers.append(launch(env, tmp_path / name, name=name))
        for server in servers:
            server.wait_ready()
        yield servers, token
    finally:
        for server in servers:
            server.stop()
        drop_schema(base, schema)


def test_a_write_through_one_replica_is_read_through_the_other(
    replicas: tuple[list[ServerProcess], str],
) -> None:
    (a, b), token = replicas
    via_a, via_b = remote_registry(a.url, token), remote_registry(b.url, token)
    via_a.save(Secret(value="v1"), "shared")
    assert via_b.load("secret/shared").get() == "v1"
    for n in range(2, 7):
        writer, reader = (via_a, via_b) if n % 2 else (via_b, via_a)
        writer.save(Secret(value=f"v{n}"), "shared", expected_version=n - 1)
        assert reader.load("secret/shared").get() == f"v{n}"  # at once, on the other replica
        assert writer.load("secret/shared").get() == f"v{n}"
    assert [v.version for v in via_a.history("secret/shared")] == \
        [v.version for v in via_b.history("secret/shared")] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ConflictError):
        via_b.save(Secret(value="stale"), "shared", expected_version=3)
    via_b.rename("secret/shared", "moved")
    assert via_a.load("secret/moved").get() == "v6"
    via_a.delete("secret/moved")
    assert [s.ref for s in via_b.list("secret")] == []


def test_fail_over_when_a_replica_is_killed(replicas: tuple[list[ServerProcess], str]) -> None:
    (a, b), token = replicas
    seed = remote_registry(b.url, token)
    seed.save(Secret(value="steady"), "steady")
    seed.save(Secret(value="w-seed"), "counter")
    stop = threading.Event()
    loads = {"ok": 0, "failed": 0}
    load_errors: list[str] = []
    outcomes: list[tuple[str, str, Any]] = []  # (value, "ok"|"conflict"|"error", version)
    lock = threading.Lock()

    def loader() -> None:
        client = remote_registry([a.url, b.url], token)
        for _ in range(LOADS):
            try:
                assert client.load("secret/steady").get() == "steady"
                loads["ok"] += 1
            except (BlocksError, AssertionError) as exc:
                loads["failed"] += 1
                load_errors.append(f"{type(exc).__name__}: {exc}")

    def writer(index: int) -> None:
        urls = [a.url, b.url] if index % 2 == 0 else [b.url, a.url]
        client = remote_registry(urls, token)
        for k in range(WRITES_EACH):
            value = f"w{index}-{k}"
            while not stop.is_set():
                try:
                    current = client.summary("secret/counter").current_version
                    info = client.save(Secret(value=value), "counter", overwrite=True,
                                       expected_version=current)
                except ConflictError:
                    with lock:
                        outcomes.append((value, "conflict", None))
                    continue
                except BlocksError as exc:
                    with lock:
                        outcomes.append((value, "error", f"{type(exc).__name__}: {exc}"))
                    break  # the write may or may not have committed: checked below
                with lock:
                    outcomes.append((value, "ok", info.version))
                break

    started = time.monotonic()
    threads = [threading.Thread(target=loader)]
    threads += [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    while loads["ok"] + loads["failed"] < LOADS // 3 and time.monotonic() - started < 60:
        time.sleep(0.01)
    killed_at = loads["ok"] + loads["failed"]
    a.kill()  # SIGKILL: no graceful shutdown, connections in flight are cut
    for thread in threads:
        thread.join(timeout=TIME_BOUND)
    stop.set()
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "fail-over run exceeded its time bound"

    history = seed.history("secret/counter")
    final = seed.summary("secret/counter").current_version
    stored = {v.version: seed.load("secret/counter", version=v.version).get() for v in history}
    ok = [(value, version) for value, kind, version in outcomes if kind == "ok"]
    errors = [(value, why) for value, kind, why in outcomes if kind == "error"]
    conflicts = sum(1 for _, kind, _ in outcomes if kind == "conflict")
    committed_after_error = [value for value, _ in errors if value in stored.values()]
    print(
        f"\nfail-over: {LOADS} loads through [{a.url}, {b.url}], replica a SIGKILLed after "
        f"{killed_at} loads: {loads['ok']} ok, {loads['failed']} failed; "
        f"compare-and-set writers: {WRITERS} x {WRITES_EACH}, {len(ok)} successful writes, "
        f"{conflicts} conflicts retried, {len(errors)} writes cut by the kill "
        f"({len(committed_after_error)} of them committed); final version {final} "
        f"(= 1 seed + {final - 1}); lost writes: "
        f"{sum(1 for value, version in ok if stored.get(version) != value)}; "
        f"{elapsed:.1f} s"
    )
    assert loads["failed"] == 0, load_errors[:5]
    assert not a.alive() and b.alive()
    # Nothing lost: each successful write is in the history at the version it was given ...
    assert all(stored.get(version) == value for value, version in ok), (ok, stored)
    # ... and the history holds the seed, the successful writes and the writes whose answer
    # the kill cut off but that committed -- nothing else, each once.
    assert final == 1 + len(ok) + len(committed_after_error)
    assert sorted(stored.values()) == sorted(
        ["w-seed", *(v for v, _ in ok), *committed_after_error])
    assert len(ok) + len(errors) == WRITERS * WRITES_EACH
