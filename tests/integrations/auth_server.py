"""A real Prefect 3.8 server with basic auth on (``PREFECT_SERVER_API_AUTH_STRING``).

Started like the session's server (``tests/prefect_server.py``: free loopback port, its own
PREFECT_HOME and SQLite file, readiness on ``/api/health``, which Prefect leaves open without
credentials), with the auth string in the server's environment only.
"""

from __future__ import annotations

from pathlib import Path

from tests.prefect_server import START_TIMEOUT, _base_env, database
from tests.servers import HOST, Server, ServerUnavailable, _spawn, find_binary, free_port, wait_http

AUTH_STRING = "blocks-admin:auth-s3cr3t-7c1e"


def start_prefect_with_auth(workdir: Path, auth_string: str = AUTH_STRING) -> Server:
    """``prefect server start`` that answers 401 unless a request carries ``auth_string``."""
    port = free_port()
    home = workdir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = database(workdir)
    env["PREFECT_SERVER_API_AUTH_STRING"] = auth_string
    argv = [find_binary("prefect"), "server", "start", "--host", HOST, "--port", str(port)]
    process, log_path = _spawn("prefect-auth", argv, env, workdir)
    server = Server("prefect-auth", f"http://{HOST}:{port}/api", process, log_path,
                    {"api_url": f"http://{HOST}:{port}/api", "auth_string": auth_string})
    try:
        wait_http(f"{server.url}/health", ok=lambda s: s == 200, deadline=START_TIMEOUT,
                  process=process)
    except ServerUnavailable as exc:
        server.stop()
        raise ServerUnavailable(f"prefect server start (auth on): {exc}\n"
                                f"{server.log_tail()}") from None
    return server
