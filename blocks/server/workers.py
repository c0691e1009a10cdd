"""``blocks server run --workers N --reuse-port``: one listening socket per worker process.

uvicorn's supervisor binds one socket and every worker accepts on it: whichever worker calls
``accept`` first takes the connection, and one worker can take several arriving together. With
``--reuse-port`` the supervisor binds ``N`` sockets to the same address with ``SO_REUSEPORT``
and gives worker ``i`` socket ``i`` only: the kernel spreads new connections across the
sockets by a hash of their addresses, as nginx's ``reuseport`` and gunicorn's ``--reuse-port``
do (many connections spread evenly; a handful can still land unevenly, and a busy worker
gets its share all the same). Linux lets only processes of the same user join such a group.
Measured on 2 shared cores with 4 keep-alive connections (docs/benchmarks.md), neither way
was clearly ahead, so the shared socket stays the default.

A worker that dies is replaced on its own socket (connections that reach it meanwhile wait in
its backlog). Whatever uvicorn does besides (``SIGHUP`` restarts, ``SIGTTIN``) gives the new
worker every socket, which still serves every connection, just without the spreading.
Where ``SO_REUSEPORT`` is missing (not Linux or BSD) the workers share one socket.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger


def listening_sockets(config: Config, count: int) -> list[socket.socket]:
    """``count`` sockets bound to ``config``'s host and port with ``SO_REUSEPORT`` (the first
    decides the port when it is 0); inheritable, as uvicorn's own. A port some other process
    listens on is refused, even one that also uses ``SO_REUSEPORT`` (which would otherwise
    share its connections with this server): a plain bind is tried first."""
    family = socket.AF_INET6 if config.host and ":" in config.host else socket.AF_INET
    sockets: list[socket.socket] = []
    port = config.port
    try:
        with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((config.host, port))
            port = probe.getsockname()[1]
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config.host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        logger.error(exc)
        sys.exit(STARTUP_FAILURE)
    return sockets


class SpreadingMultiprocess(Multiprocess):
    """uvicorn's supervisor, each worker on a socket of its own (see the module)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=sockets)  # what uvicorn's other paths hand out
        self.own: dict[int, list[socket.socket]] = {}  # id(process) -> its socket

    def _start(self, sockets: list[socket.socket]) -> Process:
        process = Process(self.config, sockets)
        process.start()
        self.own[id(process)] = sockets
        return process

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            self.processes.append(self._start([self.sockets[index % len(self.sockets)]]))

    def keep_subprocess_alive(self) -> None:
        """Each worker that stopped answering is replaced on the socket it had (uvicorn's
        supervisor would hand the new one every socket); one that could not start at all
        stops the server, as uvicorn's does."""
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error("worker process %s could not start: stopping the server",
                             process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():  # asked to stop while that worker was reaped
                return
            logger.info("worker process %s stopped: starting another on its socket",
                        process.pid)
            self.processes[index] = self._start(self.own.pop(id(process), self.sockets))


def run(config: Config, *, spread: bool = False) -> None:
    """Run ``config.workers`` worker processes of ``config``'s app (an import string) until
    SIGTERM/SIGINT: one shared socket (uvicorn's way), or with ``spread`` one socket per
    worker (see the module)."""
    supervisor: Any
    if spread and hasattr(socket, "SO_REUSEPORT"):
        supervisor = SpreadingMultiprocess(config, listening_sockets(config, config.workers))
    else:
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
