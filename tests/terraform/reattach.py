"""One provider process per test, reattached to every ``terraform`` command of that test.

Launched by Terraform, the provider starts three to five times per command (validate, plan,
apply and refresh walks each start their own), and each start imports the provider again: most
of the Terraform tests' time. Terraform's documented alternative for debugging providers is
``TF_REATTACH_PROVIDERS`` (go-plugin reattach): a provider started by someone else serves
every command that names it. ``tf``'s ``--dev`` mode starts such a server and prints the
variable's value; :class:`ProviderServer` runs it with the test's environment (so it reads the
test's ``BLOCKS_HOME``), and starts it again whenever that environment changes, so the provider
never sees a stale one.

Terraform itself, the lock file, the configuration and every RPC are the real ones; what is not
exercised is the launcher (``python.env``, the installed executable) and a fresh process per
walk. Tests marked ``@pytest.mark.tf_launcher`` keep that path, as do ``test_install.py`` and
the tests that read the provider's own log lines in ``TF_LOG`` output.

The server is forked from a pre-imported zygote (``zygote.py``) rather than started as a new
interpreter, unless ``BLOCKS_TEST_TF_ZYGOTE=0``.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.terraform import zygote

START_TIMEOUT = 60.0
_LINE = re.compile(r"TF_REATTACH_PROVIDERS='(?P<value>.*)'")


def provider_env(env: dict[str, str]) -> dict[str, str]:
    """The part of a command's environment the provider can see a difference in (Terraform's
    own ``TF_*`` variables, ``TF_VAR_*`` included, are read by Terraform only)."""
    return {k: v for k, v in env.items() if not k.startswith("TF_")}


class ProviderServer:
    """``python -m blocks_terraform --dev`` for one test; :meth:`reattach` gives the value of
    ``TF_REATTACH_PROVIDERS`` for an environment, (re)starting the server when needed."""

    def __init__(self, cwd: Path, log_path: Path) -> None:
        self.cwd, self.log_path = cwd, log_path
        self._process: Any = None  # a subprocess.Popen or a zygote.Forked
        self._env: dict[str, str] | None = None
        self._value = ""
        self._tmp = ""

    def reattach(self, env: dict[str, str]) -> str:
        """The ``TF_REATTACH_PROVIDERS`` value of a server started with ``env``."""
        wanted = provider_env(env)
        if self._process is None or self._process.poll() is not None or wanted != self._env:
            self.stop()
            self._start(wanted)
        return self._value

    def _start(self, env: dict[str, str]) -> None:
        # A short private TMPDIR: tf puts its socket there (unix socket paths are limited to
        # ~100 bytes) and it is removed with the server.
        self._tmp = tempfile.mkdtemp(prefix="blocks-tfp-")
        child_env = {**env, "TMPDIR": self._tmp, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("a") as log:
            if zygote.enabled(child_env):
                self._process = zygote.Zygote.get().spawn(self.cwd, child_env, log)
            else:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "blocks_terraform", "--dev"], cwd=self.cwd,
                    env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=log,
                )
        self._env = env
        self._value = self._read_reattach_line()

    def _read_reattach_line(self) -> str:
        # Raw reads: a buffered readline() could hold the line while select() waits on the fd.
        assert self._process is not None and self._process.stdout is not None
        fd, seen = self._process.stdout.fileno(), b""
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                seen += chunk
                match = _LINE.search(seen.decode(errors="replace"))
                if match:
                    return match.group("value")
        self.stop()
        raise RuntimeError(f"the provider did not start in dev mode:\n{seen.decode()}\n"
                           f"{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The provider's last stderr lines (for failure messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (terminate, then kill) and remove its socket directory."""
        process, self._process = self._process, None
        if process is not None:
            zygote.end(process, process.terminate)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = ""


def enabled() -> bool:
    """Reattach unless ``BLOCKS_TEST_TF_REATTACH=0`` (every test then launches as users do)."""
    return os.environ.get("BLOCKS_TEST_TF_REATTACH", "1") != "0"
