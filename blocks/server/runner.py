"""Run the registry's HTTP API as a process: uvicorn, TLS, graceful shutdown, access log.

``blocks server run`` (``blocks/cli/server_cmds.py``) calls :func:`serve`. The process is the
only one that needs the database URL and the key provider: both come from the ``BLOCKS_*``
settings, exactly as for a local registry. Every replica is stateless (the store decides), so
any number of them can run over one PostgreSQL database.

* Plain HTTP is refused on a host that is not a loopback address unless ``insecure`` is set
  (for a TLS-terminating proxy in front): tokens would cross the network in clear.
* SIGTERM (and SIGINT) stop accepting connections at once, let the requests in flight finish
  (up to ``grace_seconds``), then exit.
* The access log (``blocks.server.access_log``) goes to standard output, one JSON line per
  request; uvicorn's own messages go to standard error.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import socket
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from blocks.errors import ConfigurationError
from blocks.registry import Registry
from blocks.server import access_log
from blocks.server.defaults import DEFAULT_HOST, DEFAULT_PORT, GRACE_SECONDS
from blocks.settings import Settings

LOOPBACK_NAMES = ("localhost", "ip6-localhost")


@dataclass(frozen=True)
class ServeOptions:
    """What ``blocks server run`` was asked for."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure: bool = False
    workers: int = 1
    grace_seconds: float = GRACE_SECONDS
    reuse_port: bool = False

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def url(self, port: int | None = None) -> str:
        """The base URL clients use (``BLOCKS_API_URL``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port if port is None else port}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check(options: ServeOptions) -> None:
    """Refuse options that would not work or would not be safe, before anything starts.

    Raises:
        ConfigurationError: naming the flag and the fix.
    """
    if (options.tls_cert is None) != (options.tls_key is None):
        given, missing = (("--tls-cert", "--tls-key") if options.tls_cert is not None
                          else ("--tls-key", "--tls-cert"))
        raise ConfigurationError(f"{given} needs {missing} too: give both files (PEM)")
    if not 0 <= options.port <= 65535:
        raise ConfigurationError(f"--port {options.port} is not a TCP port: give 1-65535 "
                                 "(0: any free port)")
    if options.workers < 1:
        raise ConfigurationError(f"--workers {options.workers}: give 1 or more")
    if options.workers > 1 and options.port == 0:
        raise ConfigurationError("--port 0 (any free port) needs --workers 1: the worker "
                                 "processes must share one known port")
    if options.tls_cert is not None and options.tls_key is not None:
        _check_tls(options.tls_cert, options.tls_key)
    elif not options.insecure and not is_loopback(options.host):
        raise ConfigurationError(
            f"refusing plain HTTP on {options.host}: tokens and secret values would cross the "
            "network in clear. Give --tls-cert and --tls-key, or --insecure when a "
            "TLS-terminating proxy is in front (or bind a loopback host such as 127.0.0.1)"
        )


def _check_tls(cert: Path, key: Path) -> None:
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise ConfigurationError(f"{flag} {path}: no such file")
        if not os.access(path, os.R_OK):
            raise ConfigurationError(f"{flag} {path}: not readable by this user")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (ssl.SSLError, ValueError) as exc:
        # The reason only (e.g. KEY_VALUES_MISMATCH), never the files' content.
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ConfigurationError(
            f"--tls-cert {cert} and --tls-key {key} do not load as a certificate chain and "
            f"its private key ({reason}): give PEM files, the key matching the certificate"
        ) from None


def build_app(settings: Settings | None = None, *,
              record_requests: bool = True) -> tuple[Any, Registry]:
    """The served application (the API over a local registry, inside the access log) and
    that registry (closed when the server stops). ``record_requests=False`` only measures
    what the audit trail costs (``benchmarks/``), never serves."""
    from blocks._wiring import preload
    from blocks.server.app import create_app  # FastAPI and every route: only when serving

    preload()  # requests run on worker threads: no first import of rotation may race
    registry = Registry(settings if settings is not None else Settings())
    app = create_app(registry, record_requests=record_requests)
    return access_log.AccessLog(app), registry


def app_from_environment() -> Any:
    """uvicorn factory for ``--workers N``: each worker process builds its own app."""
    access_log.configure(sys.stdout)
    return build_app()[0]


def app_without_audit_from_environment() -> Any:
    """:func:`app_from_environment` without the audit of requests: for the benchmarks that
    measure the audit's cost (``benchmarks/server_vs_openbao.py --no-audit``), never served
    by ``blocks server run``."""
    access_log.configure(sys.stdout)
    return build_app(record_requests=False)[0]


class _Server(uvicorn.Server):
    """uvicorn's server, announcing the address it really listens on (``--port 0``)."""

    def __init__(self, config: uvicorn.Config, options: ServeOptions) -> None:
        super().__init__(config)
        self.options = options

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal once it has shut down, so the process would die of
        # SIGTERM; a graceful stop is a success: exit 0 instead.
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.servers:
            port = self.servers[0].sockets[0].getsockname()[1]
            url = self.options.url(port)
            sys.stderr.write(f"blocks server: serving on {url}\n"
                             f"blocks server: web UI at {url}/ui (sign in with an API token)\n")
            sys.stderr.flush()


def http_protocol() -> Any:
    """uvicorn's httptools protocol writing each response at once
    (:mod:`blocks.server.protocol`), or uvicorn's choice without httptools."""
    try:
        from blocks.server.protocol import CoalescingProtocol
    except ImportError:  # httptools is missing: uvicorn falls back to h11
        return "auto"
    return CoalescingProtocol


def _uvicorn_options(options: ServeOptions) -> dict[str, Any]:
    return {
        "http": http_protocol(),
        "host": options.host,
        "port": options.port,
        "ssl_certfile": str(options.tls_cert) if options.tls_cert else None,
        "ssl_keyfile": str(options.tls_key) if options.tls_key else None,
        "access_log": False,  # uvicorn's would show raw paths with their query values
        "server_header": False,
        "timeout_graceful_shutdown": int(options.grace_seconds),
        "log_level": "info",
    }


WORKER_STARTUP_SECONDS = 60
"""How long a worker process may take to start (import, build the app) and, later, to answer
the supervisor's health ping, before uvicorn kills and replaces it. uvicorn's default (5 s) is
shorter than a worker's start on a busy machine: every worker was killed and restarted in a
loop (seen at a load average of 15 on 2 cores), and the server never answered."""


def _worker_startup() -> dict[str, Any]:
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        return {"timeout_worker_healthcheck": WORKER_STARTUP_SECONDS}
    return {}  # an older uvicorn: no such check


def serve(options: ServeOptions, settings: Settings | None = None, *,
          record_requests: bool = True) -> None:
    """Serve until SIGTERM/SIGINT; returns once the requests in flight have finished.

    With ``options.workers > 1`` the workers share one listening socket (uvicorn's way), or
    with ``options.reuse_port`` each listens on a socket of its own (``SO_REUSEPORT``:
    :mod:`blocks.server.workers`) and the kernel spreads the connections across them.
    ``record_requests=False`` is for the benchmarks only (see :func:`build_app`).

    Raises:
        ConfigurationError: bad options (see :func:`check`) or settings.
    """
    check(options)
    settings = settings if settings is not None else Settings()
    access_log.configure(sys.stdout)
    if options.workers > 1:
        from blocks.server import workers

        factory = ("app_from_environment" if record_requests
                   else "app_without_audit_from_environment")
        config = uvicorn.Config(f"blocks.server.runner:{factory}", factory=True,
                                workers=options.workers, **_uvicorn_options(options),
                                **_worker_startup())
        workers.run(config, spread=options.reuse_port)
        return
    app, registry = build_app(settings, record_requests=record_requests)
    server = _Server(uvicorn.Config(app, **_uvicorn_options(options)), options)
    try:
        server.run()
    finally:
        registry.close()
