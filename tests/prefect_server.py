"""A real Prefect server for tests: ``prefect server start`` on a free loopback port.

Its own ``PREFECT_HOME`` and SQLite database in a work folder, no UI, no analytics. The server
process comes from the ``prefect`` next to the interpreter (the dev extra installs
``prefect==3.8.*`` with ``fastapi==0.150.*``: newer FastAPI 0.151-0.154 makes Prefect 3.8's
server reject ``limit: null``). Reusable by any test that needs Prefect: start it with
:func:`start_prefect` (or ``tests.servers.running(start_prefect)``) and give client processes
:func:`client_env`. A server's new database is a copy of the migrated one the first server of
this Prefect version kept (:func:`database`, :func:`keep_template`; in the virtualenv's cache).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from importlib.metadata import version
from pathlib import Path

from tests.servers import HOST, Server, ServerUnavailable, _spawn, find_binary, free_port, wait_http

START_TIMEOUT = 180.0  # first start runs Prefect's migrations; slow on a busy 2-core machine
SCHEDULER_LOOP_SECONDS = 2
"""Prefect's scheduler loops (default 60 s and 5 s) run this often on the test server, so a
test of a schedule waits seconds for its runs (tests/integrations/test_schedules.py)."""


TEMPLATES = Path(sys.prefix) / "cache" / "prefect-db"
"""Where :func:`database` keeps a migrated Prefect database per Prefect version."""


def _template() -> Path:
    return TEMPLATES / f"prefect-{version('prefect')}.db"


def database(workdir: Path) -> str:
    """The database URL of a test server in ``workdir``: a new SQLite file, copied from the
    migrated database a first server of this Prefect version left (:func:`keep_template`) if
    there is one. Prefect's migrations of a new database are about half of a start's CPU (13.6 s
    with them, 8.4 s without, measured on 3.8.8)."""
    path = workdir / "prefect.db"
    template = _template()
    if template.is_file() and not path.exists():
        path.write_bytes(template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


def keep_template(workdir: Path) -> None:
    """Keep the database of a server just started (migrated, nothing of a test in it yet) as
    the template of later ones, once per Prefect version (SQLite's backup: the server may be
    writing meanwhile). A template that cannot be made is left for the next server: it only
    saves time, so the server started is returned either way."""
    template = _template()
    if template.is_file():
        return
    partial = template.with_name(f"{template.name}.{os.getpid()}.part")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(f"file:{workdir / 'prefect.db'}?mode=ro", uri=True)
                     ) as source, closing(sqlite3.connect(partial)) as target:
            source.backup(target)
        os.replace(partial, template)
    except (OSError, sqlite3.Error):
        partial.unlink(missing_ok=True)


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    return env


def start_prefect(workdir: Path) -> Server:
    """Start a Prefect server on a free port and wait until ``/api/health`` answers 200."""
    port = free_port()
    home = workdir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = database(workdir)
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = str(SCHEDULER_LOOP_SECONDS)
    env["PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS"] = str(
        SCHEDULER_LOOP_SECONDS)
    argv = [find_binary("prefect"), "server", "start", "--host", HOST, "--port", str(port)]
    process, log_path = _spawn("prefect", argv, env, workdir)
    server = Server("prefect", f"http://{HOST}:{port}", process, log_path,
                    {"api_url": f"http://{HOST}:{port}/api"})
    try:
        wait_http(f"{server.url}/api/health", ok=lambda s: s == 200, deadline=START_TIMEOUT,
                  process=process)
    except ServerUnavailable as exc:
        server.stop()
        raise ServerUnavailable(f"prefect server start: {exc}\n{server.log_tail()}") from None
    keep_template(workdir)
    return server


def client_env(server: Server, home: Path) -> dict[str, str]:
    """Environment for a process that runs flows against ``server`` (its own PREFECT_HOME)."""
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    env["PREFECT_API_URL"] = server.extra["api_url"]
    return env
