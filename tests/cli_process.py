"""``blocks ARGS`` as a process of its own, for tests that check what a user of the command line
sees: exit code, standard output and error, with the environment and input the test gives.

By default the process is forked from this pytest process's zygote (``tests/terraform/
zygote.py``), which has imported Blocks once: the child takes the test's environment, working
directory and standard streams and runs what ``python -m blocks.cli ARGS`` runs, so a run
costs a fork instead of an interpreter's start-up and imports. A new interpreter is started
instead when the environment sets a ``PYTHON*`` variable the zygote cannot honour, or with
``BLOCKS_TEST_CLI_ZYGOTE=0`` (or ``BLOCKS_TEST_TF_ZYGOTE=0``). The interpreter's own start-up
is still exercised by the tests that run the installed ``blocks`` script (the README, the demo,
the wheel, shell completion, the extras' import errors).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from tests.terraform import zygote


def _forks(env: dict[str, str]) -> bool:
    return os.environ.get("BLOCKS_TEST_CLI_ZYGOTE", "1") != "0" and zygote.enabled(env)


def _text(data: bytes) -> str:
    """As ``subprocess.run(..., text=True)`` decodes: UTF-8 here, universal newlines."""
    return data.decode().replace("\r\n", "\n").replace("\r", "\n")


def _in_memory(name: str) -> IO[bytes]:
    """A file in memory only (a test's input and output may hold secrets: never on disk)."""
    return os.fdopen(os.memfd_create(f"blocks-cli-{name}"), "w+b")


def run_cli(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            input: str | None = None, timeout: float = 60.0,
            cwd: str | Path | None = None, check: bool = False,
            ) -> subprocess.CompletedProcess[str]:
    """Run ``blocks ARGV`` with ``env`` (default: this process's) and ``input`` on its standard
    input (else an empty one); returns what ``subprocess.run(..., capture_output=True,
    text=True)`` returns.

    Raises:
        subprocess.TimeoutExpired: it ran longer than ``timeout`` (it is killed).
        subprocess.CalledProcessError: with ``check``, it exited non-zero.
    """
    environment = dict(os.environ if env is None else env)
    args = [sys.executable, "-m", "blocks.cli", *argv]
    if not _forks(environment):
        return subprocess.run(args, env=environment, input=input, text=True,
                              capture_output=True, timeout=timeout, cwd=cwd, check=check,
                              stdin=subprocess.DEVNULL if input is None else None)
    with contextlib.ExitStack() as stack:
        stdin, out, err = (stack.enter_context(_in_memory(name)) for name in ("in", "out", "err"))
        stdin.write((input or "").encode())
        stdin.flush()
        stdin.seek(0)
        child, status = zygote.Zygote.get().run_cli(
            list(argv), environment, Path(cwd) if cwd is not None else None, stdin, out, err)
        stack.callback(os.close, status)
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
            raise subprocess.TimeoutExpired(args, timeout) from None
        reported = os.read(status, 32)
        returncode = int(reported) if reported else -9  # no code: it was killed
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(args, returncode, _text(out.read()),
                                           _text(err.read()))
    if check:
        done.check_returncode()
    return done
