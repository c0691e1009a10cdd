"""Real test servers (moto for AWS KMS, OpenBao dev for Vault Transit) run as subprocesses.

Each helper binds to 127.0.0.1 on a free port, waits until the server answers an HTTP probe
(with a deadline), and stops it with terminate-then-kill. The binaries are found next to
``sys.executable`` (the virtualenv's ``bin``), falling back to ``PATH``. The pytest fixtures that
use these live in ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 30.0


class ServerUnavailable(RuntimeError):
    """A test server's binary is missing or it did not become ready in time."""


def find_binary(name: str) -> str:
    """Path of ``name`` next to the running interpreter, else on ``PATH``."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ServerUnavailable(f"{name} not found next to {sys.executable} or on PATH")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def free_port_pair() -> int:
    """A free port ``p`` such that ``p + 1`` is free too (OpenBao's cluster port)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port + 1))
            except OSError:
                continue
        return port
    raise ServerUnavailable("no pair of adjacent free ports on 127.0.0.1")


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (for 'unreachable provider' tests)."""
    return f"http://{HOST}:{free_port()}"


@dataclass
class Server:
    """A running server subprocess."""

    name: str
    url: str
    process: subprocess.Popen[bytes] | None  # None: a shared server another process owns
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's combined output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """Terminate, then kill after ``grace`` seconds (a shared server is left running)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=grace)


def wait_http(
    url: str,
    *,
    ok: Callable[[int], bool] = lambda status: status < 500,
    deadline: float = START_TIMEOUT,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``url`` until it answers with a status ``ok`` accepts, or raise at the deadline."""
    end = time.monotonic() + deadline
    last = "no answer"
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise ServerUnavailable(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
            time.sleep(0.1)
            continue
        if ok(status):
            return
        last = f"HTTP {status}"
        time.sleep(0.1)
    raise ServerUnavailable(f"{url} not ready after {deadline:.0f}s ({last})")


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> tuple[
    subprocess.Popen[bytes], Path
]:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=workdir,
        )
    return process, log_path


def start_moto(workdir: Path, *, no_auth_actions: int | None = None) -> Server:
    """Start ``moto_server`` on a free loopback port and wait until it answers.

    With ``no_auth_actions=N`` authentication is on after the first N AWS actions
    (``INITIAL_NO_AUTH_ACTION_COUNT``): requests then need keys that exist in moto's IAM.
    """
    port = free_port()
    argv = [find_binary("moto_server"), "-H", HOST, "-p", str(port)]
    env = dict(os.environ)
    if no_auth_actions is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(no_auth_actions)
    process, log_path = _spawn("moto", argv, env, workdir)
    server = Server("moto", f"http://{HOST}:{port}", process, log_path)
    try:
        wait_http(f"{server.url}/moto-api/", process=process)
    except ServerUnavailable as exc:
        server.stop()
        raise ServerUnavailable(f"moto_server: {exc}\n{server.log_tail()}") from None
    return server


def start_openbao(workdir: Path, *, audit_file: Path | None = None) -> Server:
    """Start ``bao server -dev`` on a free loopback port with a random root token.

    ``audit_file``: also a file audit device writing there (OpenBao declares audit devices in
    its configuration only; ``benchmarks/server_vs_openbao.py --peer-audit``)."""
    port = free_port_pair()
    token = secrets.token_urlsafe(24)
    argv = [
        find_binary("bao"), "server", "-dev",
        f"-dev-listen-address={HOST}:{port}",
        f"-dev-root-token-id={token}",
        "-dev-no-store-token",
    ]
    if audit_file is not None:
        config = workdir / "audit.hcl"
        config.write_text(f'audit "file" "to-file" {{\n  options {{\n'
                          f'    file_path = {json.dumps(str(audit_file))}\n  }}\n}}\n')
        argv.append(f"-config={config}")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))
    }
    env["HOME"] = str(workdir)  # keep any token helper file out of the real home
    process, log_path = _spawn("openbao", argv, env, workdir)
    server = Server("openbao", f"http://{HOST}:{port}", process, log_path, {"token": token})
    try:
        wait_http(f"{server.url}/v1/sys/health", ok=lambda s: s == 200, process=process)
    except ServerUnavailable as exc:
        server.stop()
        raise ServerUnavailable(f"bao server -dev: {exc}\n{server.log_tail()}") from None
    return server


@contextmanager
def running(start: Callable[[Path], Server]) -> Iterator[Server]:
    """Run a server for the duration of a ``with`` block, in its own temporary directory."""
    with tempfile.TemporaryDirectory(prefix="blocks-server-") as tmp:
        server = start(Path(tmp))
        try:
            yield server
        finally:
            server.stop()


# ==================================================================================================
# One server for the whole run, whichever pytest-xdist worker asks first (tests/conftest.py
# makes the directory at configure time and stops what was started at the end of the run).
# ==================================================================================================
SHARED_DIR_ENV = "BLOCKS_TEST_SHARED_SERVERS"


def shared_server(name: str, start: Callable[[Path], Server]) -> Server:
    """The run's ``name`` server: started by the first caller (under a file lock), reused by
    every later one, in any worker process; stopped by :func:`stop_shared_servers`."""
    import fcntl
    import json

    root = Path(os.environ[SHARED_DIR_ENV])
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = root / f"{name}.json"
        if info.exists():
            data = json.loads(info.read_text())
            return Server(name, data["url"], None, Path(data["log"]), dict(data["extra"]))
        workdir = root / name
        workdir.mkdir()
        server = start(workdir)
        assert server.process is not None
        info.write_text(json.dumps({"url": server.url, "log": str(server.log_path),
                                    "extra": server.extra, "pid": server.process.pid}))
        return Server(name, server.url, None, server.log_path, dict(server.extra))


@contextmanager
def run_wide_turn(name: str) -> Iterator[None]:
    """Hold the run-wide lock ``name`` (any xdist worker): tests that write to a shared server
    by fixed names take turns."""
    import fcntl

    with (Path(os.environ[SHARED_DIR_ENV]) / f"{name}.turn").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stop_shared_servers(root: Path, grace: float = 5.0) -> None:
    """Stop every server :func:`shared_server` started under ``root`` (terminate, then kill)."""
    import json
    import signal

    for info in root.glob("*.json"):
        pid = int(json.loads(info.read_text())["pid"])
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        end = time.monotonic() + grace
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
