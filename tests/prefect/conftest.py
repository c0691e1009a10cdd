"""A real Prefect 3.8 server for the whole session (tests/prefect_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import _start_or_skip
from tests.prefect_server import start_prefect
from tests.servers import Server


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``prefect server start`` on a free loopback port with its own SQLite database."""
    server = _start_or_skip(start_prefect, tmp_path_factory.mktemp("prefect"))
    yield server
    server.stop()
