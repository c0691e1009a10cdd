"""A real Prefect 3.8 server for the whole session (tests/prefect_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import _start_or_skip
from tests.prefect_server import start_prefect
from tests.servers import Server, shared_server


@pytest.fixture(scope="session")
def prefect_server() -> Server:
    """The run's one Prefect 3.8 server (every pytest-xdist worker shares it; SQLite, its
    own PREFECT_HOME, a free loopback port; stopped at the end of the run)."""
    server = _start_or_skip(lambda _: shared_server("prefect", start_prefect), Path())
    return server
