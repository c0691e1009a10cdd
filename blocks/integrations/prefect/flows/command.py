"""Run one ``blocks`` command for a flow: in a child process of the worker's Python (these
flows are entry points, like the CLI they run, and import none of it), its output in the run's
logs, its failure the flow run's."""

from __future__ import annotations

import subprocess
import sys

from prefect import get_run_logger


def run_blocks(*argv: str) -> str:
    """``blocks ARGV...`` with this process's environment (``BLOCKS_*``); its standard output.

    Raises:
        RuntimeError: the command exited with an error (its code and the end of its errors).
    """
    done = subprocess.run([sys.executable, "-m", "blocks.cli", *argv], capture_output=True,
                          text=True, check=False)
    logger = get_run_logger()
    for line in (done.stdout + done.stderr).splitlines():
        logger.info(line)
    if done.returncode != 0:
        raise RuntimeError(f"blocks {' '.join(argv)} exited with code {done.returncode}: "
                           f"{done.stderr[-500:]}")
    return done.stdout
