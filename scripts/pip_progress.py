"""Run pip (or ``uv pip``) with a line per stage instead of its full output (used by
scripts/bootstrap.sh).

Usage: python scripts/pip_progress.py [--label=TEXT] LOG -- PIP ARGS...

Every line pip prints goes to LOG. On the terminal: one line per stage (resolving and
downloading, building, installing, done), and a line at least every few seconds while a stage
lasts, so an install never looks stuck. Build back-end notices (setuptools' "editable
installation" warning) stay in the log (appended to). When pip fails, the end of the log is
printed. ``--label`` names the one stage of a command that has no stages of pip's (ensurepip).
"""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time

HEARTBEAT_S = 8.0
# In the order pip goes through them; a stage is only ever followed by a later one.
# pip's lines, and uv's ("Using Python", "Resolved N packages", "Building x @", "Prepared",
# "Installed N packages").
STAGES = (
    ("resolving", re.compile(r"^(Obtaining|Processing|Looking in|Using Python)")),
    ("preparing the build", re.compile(r"^\s*(Installing build dependencies|Checking if build "
                                       r"backend|Getting requirements|Preparing)")),
    ("resolving and downloading dependencies",
     re.compile(r"^\s*(Collecting|Downloading|Requirement already satisfied|Resolved \d+)")),
    ("building the package", re.compile(r"^(Building wheels|Building editable|\s*Building \S+ @)")),
    ("installing", re.compile(r"^(Installing collected packages|Prepared \d+|Installed \d+)")),
)
PACKAGE = re.compile(r"^\s*(?:Collecting|Requirement already satisfied:|Building wheel for"
                     r"|Building editable for|Downloading|Building|\+) ([A-Za-z0-9_.\-]+)")
UV_INSTALLED = re.compile(r"^Installed (\d+) packages?")


def main(argv: list[str]) -> int:
    label = argv.pop(0).removeprefix("--label=") if argv[0].startswith("--label=") else ""
    log_path, sep, *pip = argv
    if sep != "--" or not pip:
        raise SystemExit("usage: pip_progress.py [--label=TEXT] LOG -- PIP ARGS...")
    lines: queue.Queue[str | None] = queue.Queue()
    proc = subprocess.Popen(pip, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", bufsize=1)
    assert proc.stdout is not None
    stream = proc.stdout

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    started = last_said = time.monotonic()
    stages = ((label, re.compile("(?!)")),) if label else STAGES
    stage, packages, latest = (0 if label else -1), set(), ""
    if label:
        say(f"   {label}")
    with open(log_path, "a") as log:
        while True:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                line = ""
            if line is None:
                break
            log.write(line)
            log.flush()  # `tail -f .venv/bootstrap.log` shows pip as it goes
            installed = UV_INSTALLED.match(line)
            if installed:
                say(f"   installed {installed.group(1)} packages")
                last_said = time.monotonic()
            found = PACKAGE.match(line)
            if found:
                packages.add(found.group(1).lower())
                latest = found.group(1)
            now = time.monotonic()
            new = next((i for i, (_, pattern) in enumerate(stages)
                        if i > stage and pattern.match(line)), stage)
            if new != stage:
                stage = new
                more = ""
                if line.startswith("Installing collected packages"):
                    more = f" {len(line.split(':', 1)[1].split(','))} packages"
                say(f"   {stages[stage][0]}{more}")
                last_said = now
            elif stage >= 0 and now - last_said >= HEARTBEAT_S:
                counted = f", {len(packages)} packages, now {latest}" if latest else ""
                say(f"   ... still {stages[stage][0]} ({now - started:.0f} s{counted})")
                last_said = now
    code = proc.wait()
    if code != 0:
        with open(log_path) as log:
            tail = log.readlines()[-40:]
        sys.stderr.write("".join(tail))
        sys.stderr.write(f"error: pip failed (exit {code}); the whole log is {log_path}\n")
    return code


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
