"""``blocks server run`` as a real subprocess, for tests, the demo and the benchmarks.

:func:`start_server` (a context manager) starts the server on a free loopback port (``--port
0``; the address it announces on standard error is the one used), waits until
``/v1/health/ready`` answers 200, and stops it at the end: SIGTERM, then SIGKILL after a grace
period. Standard output (the JSON access log) and standard error (server messages) are kept in
files for assertions and failure messages.

Nothing here skips: a server that does not start raises :class:`ServerStartError` with the
tail of its log, so under ``CI=true`` nothing that needs a server is silently left out
(:func:`require_server_extra` skips only outside CI when the ``server`` extra is missing).
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.cli_process import run_cli

START_TIMEOUT = 60.0
ANNOUNCE = re.compile(r"blocks server: serving on (\S+)")


class ServerStartError(RuntimeError):
    """``blocks server run`` exited or did not become ready in time."""


def require_server_extra() -> None:
    """Skip (fail under ``CI=true``) when FastAPI/uvicorn are not installed."""
    import importlib.util

    import pytest

    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"the server extra is not installed ({', '.join(missing)})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason + ': pip install "blocks-registry[server]"')


def server_env(base: Mapping[str, str] | None = None, **settings: str) -> dict[str, str]:
    """An environment for a server or a CLI call: the current one without any ``BLOCKS_*``
    setting (except the test PostgreSQL URL), plus ``settings`` given as ``BLOCKS_<NAME>``."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("BLOCKS_") or k == "BLOCKS_TEST_POSTGRES_URL"}
    env.update({f"BLOCKS_{k.upper()}": v for k, v in settings.items()})
    return env


def blocks_cli(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 60.0,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``blocks ARGS`` in a process of its own with ``env`` (``tests/cli_process.py``)."""
    proc = run_cli(args, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"blocks {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stderr[-2000:]}")
    return proc


@dataclass
class ServerProcess:
    """A running ``blocks server run``."""

    process: subprocess.Popen[bytes]
    url: str
    stdout_path: Path
    stderr_path: Path
    ca_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client for this server (trusting its CA; ``Authorization: Bearer``)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        verify: Any = (ssl.create_default_context(cafile=str(self.ca_file))
                       if self.ca_file is not None else True)
        return httpx.Client(base_url=self.url, headers=headers, verify=verify, **kwargs)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def access_log(self) -> list[dict[str, Any]]:
        """The access-log entries written so far (every stdout line must be one JSON object)."""
        return [json.loads(line) for line in self.stdout().splitlines() if line.strip()]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.stderr().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Send SIGTERM (graceful shutdown) without waiting."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL at once (a crashed replica) and reap it."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self, grace: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return int(self.process.returncode)

    def wait_ready(self, deadline: float = START_TIMEOUT) -> None:
        """Poll ``/v1/health/ready`` until it answers 200."""
        end = time.monotonic() + deadline
        last = "no answer"
        with self.client(timeout=5) as client:
            while time.monotonic() < end:
                if not self.alive():
                    raise ServerStartError(f"blocks server exited with code "
                                           f"{self.process.returncode}:\n{self.log_tail()}")
                try:
                    response = client.get("/v1/health/ready")
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:300]}"
                time.sleep(0.1)
        raise ServerStartError(f"{self.url} not ready after {deadline:.0f}s ({last}):\n"
                               f"{self.log_tail()}")


def launch(
    env: Mapping[str, str],
    workdir: Path,
    *,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
    ca_file: Path | None = None,
    name: str = "server",
    deadline: float = START_TIMEOUT,
) -> ServerProcess:
    """Start ``blocks server run --host HOST --port 0 ARGS`` and wait for its announced URL
    (not for readiness: see :meth:`ServerProcess.wait_ready`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = workdir / f"{name}.access.log", workdir / f"{name}.log"
    argv = [sys.executable, "-m", "blocks.cli", "server", "run", "--host", host, "--port", "0",
            *args]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   env=dict(env), cwd=workdir)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = ANNOUNCE.search(stderr_path.read_text(errors="replace"))
        if found:
            return ServerProcess(process, found.group(1), stdout_path, stderr_path, ca_file)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    raise ServerStartError(f"blocks server did not announce its address (exit code "
                           f"{process.returncode}):\n{stderr_path.read_text(errors='replace')}")


@contextmanager
def start_server(
    env: Mapping[str, str],
    workdir: Path,
    *,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
    ca_file: Path | None = None,
    name: str = "server",
    ready: bool = True,
) -> Iterator[ServerProcess]:
    """Run ``blocks server run`` for the duration of a ``with`` block (stopped with SIGTERM,
    then SIGKILL)."""
    server = launch(env, workdir, args=args, host=host, ca_file=ca_file, name=name)
    try:
        if ready:
            server.wait_ready()
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a server certificate for 127.0.0.1 and localhost that it signed."""

    ca_cert: Path
    cert: Path
    key: Path


def make_tls(directory: Path, *, hosts: Sequence[str] = ("127.0.0.1", "localhost")) -> TlsFiles:
    """Write a self-signed CA and a server certificate + key (PEM) for ``hosts``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "blocks test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    files.key.chmod(0o600)
    return files


def init_server(env: Mapping[str, str]) -> str:
    """``blocks server init`` with ``env`` (creates the registry and the first admin token);
    returns the token it printed once."""
    proc = blocks_cli(["server", "init", "--json"], env)
    return str(json.loads(proc.stdout)["token"])


def remote_registry(urls: str | Sequence[str], token: str | None, **settings: Any) -> Any:
    """A client registry (``BLOCKS_API_URL``) for one server or a fail-over list. (A private
    CA is trusted through ``api_ca_file=`` or ``SSL_CERT_FILE`` in the client's environment.)"""
    from blocks.registry_protocol import open_registry
    from blocks.settings import Settings

    api_url = urls if isinstance(urls, str) else ",".join(urls)
    return open_registry(Settings(api_url=api_url, api_token=token, **settings))
