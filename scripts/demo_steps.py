"""Output of the main journey: a numbered line per step, progress lines while a step lasts,
a short summary, and a copy of everything said in ``logs/journey.log``."""

from __future__ import annotations

import contextlib
import importlib.metadata
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HEARTBEAT_S = 10.0


class Journey:
    """Says what the journey does; runs its commands with their output in ``logs/``."""

    def __init__(self, demo_dir: Path, steps: int) -> None:
        self.dir, self.steps, self.done = demo_dir, steps, 0
        self.bin = Path(sys.executable).parent
        self._log = (demo_dir / "logs" / "journey.log").open("a")
        self._lock = threading.Lock()
        self._current = ""

    def say(self, text: str) -> None:
        with self._lock:
            print(text, flush=True)
            self._log.write(text + "\n")
            self._log.flush()

    def note(self, text: str) -> None:
        for line in text.rstrip("\n").splitlines():
            self.say(f"        {line}".rstrip())

    @contextlib.contextmanager
    def step(self, title: str, progress: str | None = None) -> Iterator[None]:
        """``[n/N] title``; every ``HEARTBEAT_S`` a ``... still`` line; ``ok (t s)`` at the end."""
        number = self.done + 1
        self._current = f"step {number} ({title})"
        self.say(f"[{number:2d}/{self.steps}] {title}")
        started = time.monotonic()
        finished = threading.Event()

        def heartbeat() -> None:
            while not finished.wait(HEARTBEAT_S):
                self.say(f"        ... still {progress} ({time.monotonic() - started:.0f} s)")

        beat = threading.Thread(target=heartbeat, daemon=True)
        if progress:
            beat.start()
        try:
            yield
        finally:
            finished.set()
            if progress:
                beat.join()
        self.done = number
        self.say(f"        ok ({time.monotonic() - started:.1f} s)")

    def command(self, env: dict[str, str], log_name: str, argv: list[str], *,
                check: bool = True, cwd: Path | None = None) -> str:
        """Run ``argv`` with its output appended to ``logs/<log_name>.log``; its stdout."""
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                              check=False)
        with (self.dir / "logs" / f"{log_name}.log").open("a") as log:
            shown = " ".join([Path(argv[0]).name, *argv[1:]])
            log.write(f"$ {shown}\n{done.stdout}{done.stderr}(exit {done.returncode})\n\n")
        if check and done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"{Path(argv[0]).name} {' '.join(argv[1:3])} exited "
                               f"{done.returncode}:\n{tail}")
        self.last_returncode = done.returncode
        return done.stdout

    def cli(self, env: dict[str, str], *argv: str, show: bool = False) -> str:
        """``blocks ARGV``; ``show`` prints its output (stdout, then stderr's messages)."""
        done = subprocess.run([str(self.bin / "blocks"), *argv], env=env, capture_output=True,
                              text=True, check=False)
        with (self.dir / "logs" / "blocks-cli.log").open("a") as log:
            log.write(f"$ blocks {' '.join(argv)}\n{done.stdout}{done.stderr}"
                      f"(exit {done.returncode})\n\n")
        if done.returncode != 0:
            raise RuntimeError(f"blocks {' '.join(argv)} exited {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}")
        if show:
            self.note(f"$ blocks {' '.join(argv)}")
            self.note((done.stdout + done.stderr).strip() or "(no output)")
        return done.stdout

    def cli_token(self, env: dict[str, str], *argv: str) -> str:
        """``blocks ARGV`` whose output holds a token: returned, never printed or logged."""
        done = subprocess.run([str(self.bin / "blocks"), *argv], env=env, capture_output=True,
                              text=True, check=False)
        with (self.dir / "logs" / "blocks-cli.log").open("a") as log:
            log.write(f"$ blocks {' '.join(argv)}\n(output not logged: it holds a token)"
                      f"\n(exit {done.returncode})\n\n")
        if done.returncode != 0:
            raise RuntimeError(f"blocks {' '.join(argv)} exited {done.returncode}:\n"
                               f"{done.stderr}")
        return done.stdout

    def terraform(self, env: dict[str, str], *argv: str, check: bool = True) -> int:
        """``terraform ARGV -no-color`` in the workspace, output in logs/terraform-<cmd>.log."""
        self.command(env, f"terraform-{argv[0]}", [str(self.bin / "terraform"), *argv,
                                                   "-no-color"],
                     check=check, cwd=self.dir / "terraform")
        return self.last_returncode

    @staticmethod
    def version(package: str) -> str:
        return importlib.metadata.version(package)

    def scan_for(self, secrets: set[str], paths: list[Path]) -> int:
        """Raise if any of ``secrets`` is in one of ``paths``; the number of files read."""
        self._log.flush()
        for path in paths:
            text = path.read_text(errors="replace")
            leaked = [s for s in secrets if s in text]
            if leaked:
                raise AssertionError(f"a secret value is in {path}")
        return len(paths)

    def fail(self, reason: str) -> None:
        self.say(f"FAILED at {self._current or 'the start'}: {reason}")
        self.say(f"        logs: {self.dir / 'logs'}")

    def summary(self, seconds: float, *, ok: bool, keep: bool) -> None:
        status = "journey complete" if ok else "journey failed"
        self.say(f"== {status}: {self.done} of {self.steps} steps in {seconds:.0f} s")
        if keep:
            d = self.dir
            self.say(f"== kept in {d} (after `source .venv/bin/activate`):")
            self.say(f"   BLOCKS_HOME={d}/home blocks ls")
            self.say(f"   BLOCKS_HOME={d}/home TF_CLI_CONFIG_FILE={d}/home/terraform/"
                     f"terraform.rc terraform -chdir={d}/terraform plan")
            self.say(f"   less {d}/logs/journey.log    # and worker-run-*.log, terraform-*.log")
        self._log.close()


def secret_values(registry: Any) -> set[str]:
    """Every secret string of every version of every block (to check none was printed)."""
    found: set[str] = set()
    for summary in registry.list():
        ref = f"{summary.type_slug}/{summary.name}"
        for info in registry.history(ref):
            block = registry.load(ref, version=info.version)
            masked = block.model_dump(mode="json")
            revealed = block.model_dump(mode="json", context={"include_secrets": True})
            found |= _differences(masked, revealed)
    return {s for s in found if len(s) >= 8}


def _differences(masked: Any, revealed: Any) -> set[str]:
    if isinstance(masked, dict) and isinstance(revealed, dict):
        return set().union(*(_differences(masked.get(k), v) for k, v in revealed.items()))
    if isinstance(masked, list) and isinstance(revealed, list):
        return set().union(*(_differences(m, r) for m, r in zip(masked, revealed, strict=False)))
    if isinstance(revealed, str) and masked != revealed:
        return {revealed}
    return set()
