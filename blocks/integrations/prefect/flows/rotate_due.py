"""``blocks-rotate-due``: runs ``blocks rotate --due`` as a Prefect flow.

Deployed by ``blocks prefect deploy-rotation --pool NAME --cron ...``. A rotation that fails
fails the flow run (so Prefect automations can alert); the summary table is in the run's logs.
This module imports ``prefect``: it is loaded by a Prefect worker, never by ``import blocks``.
"""

from __future__ import annotations

import contextlib
import io

from prefect import flow, get_run_logger

from blocks.cli.main import main


@flow(name="blocks-rotate-due")
def rotate_due() -> str:
    """Rotate every block whose rotation is due, resuming interrupted rotations."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["rotate", "--due"])
    logger = get_run_logger()
    for line in (out.getvalue() + err.getvalue()).splitlines():
        logger.info(line)
    if code != 0:
        raise RuntimeError(f"blocks rotate --due exited with code {code}: {err.getvalue()[-500:]}")
    return out.getvalue()
