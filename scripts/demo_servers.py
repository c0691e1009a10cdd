"""The servers of the main journey (scripts/demo.sh): moto (S3), a Prefect 3.8 server and a
``blocks server`` on 127.0.0.1 at free ports, and the local PostgreSQL if one answers.

Each server runs in its own process group (so ``prefect server start`` and its children stop
together); its pid goes to ``servers.pids`` in the demo directory, which demo.sh's trap reads
to stop whatever is left if this process dies. Output goes to ``logs/<name>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def binary(name: str) -> str:
    """``name`` next to this interpreter (the venv's bin)."""
    return str(Path(sys.executable).parent / name)


@dataclass
class Server:
    """A server process started by :func:`start`."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after ``grace`` seconds."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace)


def start(name: str, argv: list[str], env: dict[str, str], demo_dir: Path, url: str,
          probe: str, timeout: float) -> Server:
    """Start ``argv``, record its pid, wait until ``probe`` answers 200 (or fail with the log)."""
    log = demo_dir / "logs" / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, cwd=demo_dir,
                                   start_new_session=True)
    with (demo_dir / "servers.pids").open("a") as pids:
        pids.write(f"{process.pid}\n")
    server = Server(name, url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(probe, timeout=2) as resp:  # noqa: S310 (loopback)
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    server.stop()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"{name} did not start (log: {log}):\n{tail}")


def start_moto(env: dict[str, str], demo_dir: Path) -> Server:
    """``moto_server`` (S3 and every other AWS API moto has) on a free port."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    return start("moto", [binary("moto_server"), "-H", HOST, "-p", str(port)], env, demo_dir,
                 url, f"{url}/moto-api/", timeout=60)


def prefect_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """``env`` for a Prefect process with its own ``PREFECT_HOME`` (no UI, no analytics)."""
    home.mkdir(parents=True, exist_ok=True)
    out = {k: v for k, v in env.items() if not k.startswith("PREFECT_")}
    out.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_UI_ENABLED="false")
    return out


def start_prefect(env: dict[str, str], demo_dir: Path) -> Server:
    """``prefect server start`` on a free port, SQLite database in the demo directory."""
    port = free_port()
    url = f"http://{HOST}:{port}/api"
    server_env = prefect_env(env, demo_dir / "prefect" / "server-home")
    server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
        f"sqlite+aiosqlite:///{demo_dir / 'prefect' / 'prefect.db'}")
    argv = [binary("prefect"), "server", "start", "--host", HOST, "--port", str(port)]
    # The first start runs Prefect's migrations: a minute or more on a busy machine.
    return start("prefect-server", argv, server_env, demo_dir, url, f"{url}/health", timeout=300)


def postgres_answers(admin_url: str) -> str | None:
    """``None`` when the admin login works at ``admin_url``, else why not."""
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return " ".join(str(exc).split())[:200] or type(exc).__name__
    return None


def start_blocks(env: dict[str, str], demo_dir: Path) -> Server:
    """``blocks server run`` on a free loopback port: it holds the registry (``env`` has
    BLOCKS_HOME, so the database and the master key); the flow runs only reach it."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    argv = [binary("blocks"), "server", "run", "--host", HOST, "--port", str(port)]
    return start("blocks-server", argv, env, demo_dir, url, f"{url}/v1/health/ready",
                 timeout=60)
