"""Two processes racing on one block: compare-and-set gives one ConflictError, no lost write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blocks import ConflictError, Registry, Settings
from tests.core.models import TestCreds
from tests.forked import writer_context


def _writer(home: str, url: str, password: str, barrier: Any, results: Any) -> None:
    reg = Registry(Settings(home=Path(home), database_url=url))
    loaded = reg.load("test-creds/shared")
    base = loaded.block_version
    reg.keyring.current_term  # noqa: B018 - unwrap keys before the race window
    barrier.wait(timeout=30)
    try:
        info = reg.save(TestCreds(user="bob", password=password), "shared",
                        expected_version=base)
        results.put(("ok", password, info.version))
    except ConflictError as exc:
        results.put(("conflict", password, str(exc)))
    finally:
        reg.close()


def _appender(home: str, url: str, password: str, barrier: Any, results: Any) -> None:
    reg = Registry(Settings(home=Path(home), database_url=url))
    reg.keyring.current_term  # noqa: B018
    barrier.wait(timeout=30)
    for i in range(10):
        reg.save(TestCreds(user="bob", password=f"{password}-{i}"), "shared", overwrite=True)
    results.put(("done", password, None))
    reg.close()


def run(target: Any, home: Path, url: str, names: list[str]) -> list[tuple[str, str, Any]]:
    ctx = writer_context(__name__)
    barrier, results = ctx.Barrier(len(names)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(str(home), url, n, barrier, results))
             for n in names]
    for p in procs:
        p.start()
    out = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return out


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_processes_cas_on_one_block_one_conflict_no_lost_write(
    backend: str, blocks_home: Path, request: pytest.FixtureRequest
) -> None:
    url = (request.getfixturevalue("pg_url") if backend == "postgres"
           else f"sqlite:///{blocks_home / 'blocks.db'}")
    reg = Registry(Settings(home=blocks_home, database_url=url))
    reg.save(TestCreds(user="bob", password="v1"), "shared")
    for _round in range(3):
        base = reg.summary("test-creds/shared").current_version
        out = run(_writer, blocks_home, url, ["left", "right"])
        kinds = sorted(k for k, _, _ in out)
        assert kinds == ["conflict", "ok"], out
        (_, winner, version), = [o for o in out if o[0] == "ok"]
        (_, _, message), = [o for o in out if o[0] == "conflict"]
        assert version == base + 1 and "someone else wrote first" in message
        current = reg.load("test-creds/shared")
        assert current.password.get_secret_value() == winner
        assert current.block_version == base + 1
    reg.close()


@pytest.mark.postgres
def test_concurrent_overwrites_all_become_versions(blocks_home: Path, pg_url: str) -> None:
    reg = Registry(Settings(home=blocks_home, database_url=pg_url))
    reg.save(TestCreds(user="bob", password="v1"), "shared")
    run(_appender, blocks_home, pg_url, ["p", "q", "r"])
    history = reg.history("test-creds/shared")
    assert [v.version for v in history] == list(range(1, 32))
    passwords = {reg.load("test-creds/shared", version=v.version).password.get_secret_value()
                 for v in history[1:]}
    assert passwords == {f"{n}-{i}" for n in "pqr" for i in range(10)}
    reg.close()
