"""A pre-imported parent that forks each test's provider process (``python -m blocks_terraform
--dev``) instead of starting a new interpreter for it.

Each Terraform test gets a provider process of its own (``reattach.py``), and a new
interpreter spends most of its CPU time importing the provider, Blocks, pydantic, gRPC and
SQLAlchemy before it answers its first call (about 0.35 s of CPU on a quiet machine, several
hundred times per run). The zygote, one per pytest process, imports all of that once, with no
registry opened, no thread started and no environment read; for each test it forks a child
that takes the test's working directory, environment, standard output and error, and then runs
exactly what ``blocks_terraform/__main__.py`` runs. Everything the child does after the fork
(settings, the registry, the gRPC server, the types of the test's own modules) is done in the
child, with the test's environment, as in a fresh process.

The same zygote also runs ``blocks`` CLI commands for tests (:meth:`Zygote.run_cli`, through
``tests/cli_process.py``): a child takes the test's standard input, output and error and
environment, runs what ``python -m blocks.cli ARGS`` runs, and reports its exit code on a pipe
of its own (the zygote, not the test, reaps it). A CLI run costs a fork instead of an
interpreter's start-up and imports (about 0.25 s of CPU alone, 0.5 s in a busy run; several
hundred runs per suite).

What a fork does not exercise: the interpreter's start-up and the imports. Those are exercised
by the tests that let Terraform launch the installed provider (``@pytest.mark.tf_launcher``,
``test_install.py``) and by every other test that starts ``blocks`` processes.
``BLOCKS_TEST_TF_ZYGOTE=0`` starts a new interpreter per test instead.

Protocol (a Unix socket in a private directory): the test side sends one JSON line
``{"cwd": ..., "env": {...}}`` with two file descriptors (the child's standard output and
error) attached; the zygote forks and answers ``{"pid": N}``; the test side opens a pidfd of
the child (it is the zygote's child, not the test's: the pidfd is how it watches and signals
it) and answers ``opened``. Only then may the zygote reap the child, so the pid cannot be
another process's by the time the test side opens it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0


_AT_START_BUT_PATH = ("PYTHONUNBUFFERED", "PYTHONPATH")
"""Interpreter start-up variables a forked child can honour: the zygote's output is already
unbuffered, and the child puts ``PYTHONPATH`` on ``sys.path`` itself."""


def enabled(env: dict[str, str]) -> bool:
    """Fork the provider for ``env`` from the zygote: unless ``BLOCKS_TEST_TF_ZYGOTE=0``, and
    only when every other ``PYTHON*`` variable (read when an interpreter starts) is the
    zygote's own; otherwise a new interpreter must read them."""
    if os.environ.get("BLOCKS_TEST_TF_ZYGOTE", "1") == "0":
        return False
    names = {k for k in (*env, *os.environ)
             if k.startswith("PYTHON") and k not in _AT_START_BUT_PATH}
    return all(env.get(k) == os.environ.get(k) for k in names)


def _entries(pythonpath: str | None) -> list[str]:
    return [os.path.abspath(p) for p in (pythonpath or "").split(os.pathsep) if p]


# ------------------------------------------------------------------------------------------
# The test side
# ------------------------------------------------------------------------------------------

class Forked:
    """A provider process forked by the zygote: the part of ``subprocess.Popen`` that
    ``ProviderServer`` uses (it cannot ``waitpid`` a process that is not its child)."""

    def __init__(self, pid: int, pidfd: int, stdout: Any) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._pidfd = pidfd

    def poll(self) -> int | None:
        """``None`` while it runs; then -1 (its status went to the zygote, which reaped it)."""
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self.returncode = -1
            os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"provider {self.pid}", timeout or 0)
            self.poll()
        assert self.returncode is not None
        return self.returncode

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, number)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class Zygote:
    """The zygote of this pytest process (started on first use, stopped at exit)."""

    _instance: Zygote | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="blocks-zyg-")
        self.path = os.path.join(self._dir, "s")
        self._process = subprocess.Popen(
            [sys.executable, "-u", __file__, self.path], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, cwd=self._dir)
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT)
        line = self._process.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError(f"the provider zygote did not start: {line!r}")
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> Zygote:
        with cls._lock:
            if cls._instance is None or cls._instance._process.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def spawn(self, cwd: Path, env: dict[str, str], stderr: Any, probe: bool = False
              ) -> Forked:
        """A child serving the provider in ``cwd`` with exactly ``env``; its standard output
        is the returned handle's ``stdout`` (a pipe), its standard error ``stderr``. With
        ``probe`` the child prints what it became (directory, environment, ``sys.path``,
        temporary directory) as one JSON line and ends instead."""
        read_end, write_end = os.pipe()
        try:
            forked = self._fork({"cwd": str(cwd), "env": env, "probe": probe},
                                [write_end, stderr.fileno()])
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        forked.stdout = os.fdopen(read_end, "rb", buffering=0)
        return forked

    def run_cli(self, argv: list[str], env: dict[str, str], cwd: Path | None, stdin: Any,
                stdout: Any, stderr: Any) -> tuple[Forked, int]:
        """A child running ``blocks ARGV`` with exactly ``env`` in ``cwd`` and the given
        standard streams (open files); returns it and the read end of the pipe where it
        writes its exit code before it ends."""
        status_read, status_write = os.pipe()
        try:
            forked = self._fork({"kind": "cli", "argv": argv, "env": env,
                                 "cwd": str(cwd or os.getcwd())},
                                [stdin.fileno(), stdout.fileno(), stderr.fileno(),
                                 status_write])
        except BaseException:
            os.close(status_read)
            raise
        finally:
            os.close(status_write)
        return forked, status_read

    def _fork(self, request: dict[str, Any], fds: list[int]) -> Forked:
        """Send ``request`` with ``fds`` and hold the child's pidfd (see the protocol)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(START_TIMEOUT)
            conn.connect(self.path)
            data = json.dumps(request).encode() + b"\n"
            sent = socket.send_fds(conn, [data], fds)
            if sent < len(data):
                # Only then: sendall(b"") still sends, and meets EPIPE when the zygote has
                # already answered and closed (CI saw it under load).
                conn.sendall(data[sent:])
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
            try:
                pid = int(json.loads(answer)["pid"])
            except (ValueError, KeyError) as exc:
                raise RuntimeError(f"the zygote did not fork: {answer!r}") from exc
            pidfd = os.pidfd_open(pid)
            conn.sendall(b"opened\n")
        return Forked(pid, pidfd, None)

    def stop(self) -> None:
        stdin = self._process.stdin
        end(self._process, stdin.close if stdin is not None else self._process.terminate)
        shutil.rmtree(self._dir, ignore_errors=True)  # the zygote ends when its stdin does


def end(process: Any, ask: Callable[[], None]) -> None:
    """Ask a running ``process`` (a ``Popen`` or a :class:`Forked`) to end with ``ask()``,
    kill it if it has not ended 5 s later, and close its standard output."""
    if process.poll() is None:
        ask()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


# ------------------------------------------------------------------------------------------
# The zygote itself (``python -u zygote.py SOCKET``)
# ------------------------------------------------------------------------------------------

PRELOAD = ("sqlalchemy", "sqlalchemy.dialects.sqlite", "blocks.audit_actor",
           "blocks_terraform.provider", "blocks_terraform.serving", "blocks.cli.main")
"""Imported by the zygote: the store's engine (imported when a registry opens),
``blocks_terraform/__main__.py``'s own imports and the CLI's entry point; then the provider's
``import_blocks``."""


def _preload() -> None:
    """What every provider process imports before (and during) its first calls."""
    for name in PRELOAD:
        importlib.import_module(name)
    from blocks_terraform.runtime import import_blocks

    import_blocks()


def _child(conn: socket.socket, listener: socket.socket, request: dict[str, Any],
           fds: list[int]) -> None:
    """In the forked child: become ``python -m blocks_terraform --dev`` for the test (or,
    for a ``cli`` request, ``python -m blocks.cli ARGV``)."""
    code = 0
    cli = request.get("kind") == "cli"
    status = fds.pop() if cli else None
    try:
        listener.close()
        conn.close()
        streams = fds if cli else [os.open(os.devnull, os.O_RDONLY), *fds]
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
        for fd in streams:
            os.close(fd)
        os.chdir(request["cwd"])
        ours = _entries(os.environ.get("PYTHONPATH"))
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # computed again from the test's TMPDIR
        # sys.path as `python -m` makes it in the test's directory with the test's PYTHONPATH.
        base = [p for p in sys.path if p not in ours]
        sys.path[:] = [os.getcwd(), *_entries(os.environ.get("PYTHONPATH")), *base]
        importlib.invalidate_caches()
        if request.get("probe"):  # test_zygote.py: what the child became, instead of serving
            print(json.dumps({"cwd": os.getcwd(), "env": dict(os.environ), "path": sys.path,
                              "tmp": tempfile.gettempdir(), "argv": sys.argv}))
            return
        if cli:
            _cli(request["argv"])  # ends with SystemExit, as the real entry point
            return
        import blocks_terraform.__main__ as entry
        sys.argv = [entry.__file__, "--dev"]
        from blocks.audit_actor import set_via
        from blocks_terraform.provider import BlocksProvider
        from blocks_terraform.serving import serve

        set_via("terraform")
        serve(BlocksProvider())
    except SystemExit as exc:  # as the interpreter ends: None is 0, a message goes to stderr
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # reported on the test's log, then the child ends
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        if status is not None:
            with contextlib.suppress(OSError):
                os.write(status, str(code).encode())
        os._exit(code)


def _cli(argv: list[str]) -> None:
    """What ``python -m blocks.cli ARGV`` runs, in the child (standard streams in place)."""
    import blocks.cli
    from blocks.cli.main import main

    sys.argv = [os.path.join(os.path.dirname(blocks.cli.__file__), "__main__.py"), *argv]
    sys.exit(main(list(argv)))  # as ``blocks/cli/__main__.py`` ends


def _reap(children: set[int]) -> None:
    """Collect the children that have ended (each one's pidfd, opened by the test side before
    it let us go on, tells the test side)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)


def _stop(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def main(path: str) -> None:
    _preload()
    if threading.active_count() != 1:
        raise SystemExit(f"the zygote has threads after its imports: {threading.enumerate()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)
    children: set[int] = set()
    try:
        while True:
            _reap(children)
            ready, _, _ = select.select([listener, sys.stdin], [], [], 1.0)
            if sys.stdin in ready:
                return  # the test process closed our standard input (or ended)
            if listener in ready:
                _serve_one(listener, children)
    finally:
        for pid in children:  # a provider no test stopped ends with the test process
            _stop(pid, signal.SIGTERM)


def _serve_one(listener: socket.socket, children: set[int]) -> None:
    conn, _ = listener.accept()
    with conn:
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
        while not message.endswith(b"\n"):
            more = conn.recv(1 << 20)
            if not more:
                break
            message += more
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(conn, listener, request, fds)
        children.add(pid)
        for fd in fds:
            os.close(fd)
        try:
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            opened = conn.recv(16)  # the test side holds its pidfd: the child may be reaped
        except OSError:
            opened = b""
        if not opened:  # the test side is gone before it could ever stop this child
            _stop(pid, signal.SIGKILL)


if __name__ == "__main__":
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # this directory's modules (versions.py, ...) must not shadow any
    main(sys.argv[1])
