"""A real Prefect server for tests: ``prefect server start`` on a free loopback port.

It runs with its own ``PREFECT_HOME`` and SQLite database in a temporary directory, without
the UI, telemetry or services the tests do not need, and is stopped at the end of the session.
The ``prefect`` executable is found next to the test interpreter (the dev extra installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.servers import HOST, Server, ServerUnavailable, _spawn, find_binary, free_port, wait_http

START_TIMEOUT = 120.0


def prefect_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment of a Prefect process (server, worker, flow) isolated in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BLOCKS_"))}
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    })
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


def start_prefect(workdir: Path) -> Server:
    """Start a Prefect server and wait until ``/api/health`` answers."""
    try:
        binary = find_binary("prefect")
    except ServerUnavailable as exc:
        raise ServerUnavailable(f"{exc}; install the dev extra (pip install -e '.[dev]')") from None
    port = free_port()
    home = workdir / "home"
    home.mkdir()
    argv = [binary, "server", "start", "--host", HOST, "--port", str(port)]
    process, log_path = _spawn("prefect", argv, prefect_env(home), workdir)
    server = Server("prefect", f"http://{HOST}:{port}/api", process, log_path,
                    {"home": str(home)})
    try:
        wait_http(f"{server.url}/health", ok=lambda s: s == 200, process=process,
                  deadline=START_TIMEOUT)
    except ServerUnavailable as exc:
        server.stop()
        raise ServerUnavailable(f"prefect server start: {exc}\n{server.log_tail()}") from None
    return server
