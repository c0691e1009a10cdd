"""Fixtures of the Prefect bridge tests: one real Prefect server per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.integrations.prefect import PrefectClient
from tests.conftest import _start_or_skip
from tests.prefect_server import start_prefect
from tests.servers import Server, shared_server


@pytest.fixture(scope="session")
def prefect_server() -> Server:
    """The run's one Prefect 3.8 server (every pytest-xdist worker shares it; SQLite, its
    own PREFECT_HOME, a free loopback port; stopped at the end of the run)."""
    server = _start_or_skip(lambda _: shared_server("prefect", start_prefect), Path())
    server.url = server.extra["api_url"]  # the bridge talks to the API root
    return server


@pytest.fixture
def prefect(prefect_server: Server) -> Iterator[PrefectClient]:
    """A client of the session's Prefect server."""
    with PrefectClient(prefect_server.url) as client:
        yield client


@pytest.fixture
def bridge_registry(
    blocks_home: Path, prefect_server: Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Registry]:
    """A SQLite registry whose settings point the bridge at the session's Prefect server
    (the CLI run in-process finds it through ``BLOCKS_PREFECT_API_URL``)."""
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    reg = Registry(Settings(home=blocks_home))
    Registry.reset_default()
    yield reg
    reg.close()
