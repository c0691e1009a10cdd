"""A real ``blocks server`` for tests (imported by tests/conftest.py).

:func:`serve` runs the app on uvicorn on 127.0.0.1 with a port the OS picks, in a thread of
the test process (it waits until the server accepts connections, and stops it cleanly);
``http_registry`` is a :class:`RemoteRegistry` talking to one over a fresh SQLite registry.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Settings
from blocks.remote.registry import RemoteRegistry
from blocks.server.security import ADMIN, Authenticator, static_authenticator

STARTUP_SECONDS = 20.0


@contextlib.contextmanager
def serve(registry: Registry, authenticator: Authenticator | None = None) -> Iterator[str]:
    """Serve ``registry`` over HTTP; yields the base URL (``http://127.0.0.1:PORT``)."""
    from blocks.server.app import create_app

    with serve_app(create_app(registry, authenticator=authenticator)) as url:
        yield url


class _Unexpected(logging.Handler):
    """Collects the app's "unexpected exception" records (each one was a 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("unexpected"):
            self.seen.append(record.getMessage().splitlines()[0])


@contextlib.contextmanager
def serve_app(app: Any, *, allow_500: bool = False) -> Iterator[str]:
    """Serve an ASGI ``app`` on uvicorn in a thread; yields its base URL.

    Fails the test if the app answered a 500 (an exception no handler knew), unless
    ``allow_500``: the API never answers 500 to anything a test sends it.
    """
    import uvicorn

    unexpected = _Unexpected()
    server_log = logging.getLogger("blocks.server")
    server_log.addHandler(unexpected)

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets; without it every
    # response with a body waits ~40 ms (Nagle against the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    from blocks.server.runner import http_protocol  # the protocol `blocks server run` uses

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5, http=http_protocol())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"blocks-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the test blocks server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        server_log.removeHandler(unexpected)
    if unexpected.seen and not allow_500:
        pytest.fail("the blocks server answered 500: " + "; ".join(unexpected.seen))


def remote_settings(url: str, token: str | None = None, **extra: object) -> Settings:
    """Client settings for a server at ``url`` (no database, no master key)."""
    return Settings(api_url=url, api_token=token, **extra)  # type: ignore[arg-type]


@pytest.fixture
def served_registry(blocks_home: Path) -> Iterator[Registry]:
    """The server side's registry of ``http_registry`` (a fresh SQLite one)."""
    reg = Registry(Settings(home=blocks_home / "server"))
    reg.init()
    yield reg
    reg.close()


@pytest.fixture
def server_url(served_registry: Registry) -> Iterator[str]:
    """A blocks server over ``served_registry``; every request is the admin's."""
    with serve(served_registry, static_authenticator(ADMIN)) as url:
        yield url


@pytest.fixture
def http_registry(server_url: str, served_registry: Registry) -> Iterator[RemoteRegistry]:
    """A :class:`RemoteRegistry` talking to ``server_url`` over HTTP (``.served``: the
    registry behind it, see ``tests.registry_fixtures.backing``)."""
    reg = RemoteRegistry(remote_settings(server_url))
    reg.served = served_registry  # type: ignore[attr-defined]
    yield reg
    reg.close()
