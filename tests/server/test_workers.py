"""``blocks server run --workers N``: each worker listens on a socket of its own
(``SO_REUSEPORT``), so the kernel spreads connections across the workers."""

from __future__ import annotations

import socket
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from uvicorn.config import STARTUP_FAILURE, Config

from blocks.server import workers

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT")


def _config(port: int = 0, count: int = 2) -> Config:
    return Config("blocks.server.runner:app_from_environment", factory=True, host="127.0.0.1",
                  port=port, workers=count)


def test_each_worker_gets_its_own_socket_on_one_port() -> None:
    sockets = workers.listening_sockets(_config(), 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(sockets) == 3 and len(ports) == 1
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
            assert sock.get_inheritable()
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_another_process_listens_on_is_refused_even_with_reuseport() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(SystemExit) as stopped:
            workers.listening_sockets(_config(other.getsockname()[1]), 2)
        assert stopped.value.code == STARTUP_FAILURE


class _FakeProcess:
    """Stands for uvicorn's worker process: notes the sockets it was given."""

    started: list[_FakeProcess] = []

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.sockets = sockets
        self.alive = True
        self.pid = len(self.started) + 1
        self.exitcode: int | None = None

    def start(self) -> None:
        self.started.append(self)

    def is_alive(self, timeout: float = 5) -> bool:
        return self.alive

    def kill(self) -> None:
        self.alive = False

    def join(self) -> None:
        self.exitcode = -9


def test_workers_are_spread_over_the_sockets_and_a_replacement_keeps_its_socket(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    monkeypatch.setattr(workers, "Process", _FakeProcess)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # the supervisor's handlers
    _FakeProcess.started = []
    sockets: list[Any] = ["socket-0", "socket-1"]  # handed over, never used by the fakes
    supervisor = workers.SpreadingMultiprocess(_config(), sockets)
    supervisor.init_processes()
    assert [p.sockets for p in _FakeProcess.started] == [["socket-0"], ["socket-1"]]
    _FakeProcess.started[1].alive = False  # the second worker died
    supervisor.keep_subprocess_alive()
    assert len(_FakeProcess.started) == 3 and _FakeProcess.started[2].sockets == ["socket-1"]
    assert supervisor.processes[1] is _FakeProcess.started[2]


@pytest.mark.parametrize(("flags", "spread"), [([], False), (["--reuse-port"], True)])
def test_blocks_server_run_reuse_port_gives_each_worker_its_socket(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], spread: bool
) -> None:
    import logging

    from blocks.cli.main import main
    from blocks.server import access_log

    logger = logging.getLogger(access_log.LOGGER_NAME)  # `server run` configures it: put back
    monkeypatch.setattr(logger, "handlers", logger.handlers[:])
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    seen: list[tuple[int, bool]] = []
    monkeypatch.setattr(workers, "run",
                        lambda config, *, spread=False: seen.append((config.workers, spread)))
    level = logger.level
    try:
        assert main(["server", "run", "--port", "8765", "--workers", "2", *flags]) == 0
    finally:
        logger.setLevel(level)
    assert seen == [(2, spread)]
