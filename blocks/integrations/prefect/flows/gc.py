"""``blocks-gc``: runs ``blocks gc`` as a Prefect flow.

Deployed by ``blocks prefect deploy-gc --pool NAME --cron ...``: it shreds the deleted blocks
whose recovery window has passed. A block left waiting (a deleted block that is not due yet
still references it) or a refused schedule fails the flow run, so Prefect automations can
alert; the list of shredded blocks is in the run's logs. This module imports ``prefect``: it is
loaded by a Prefect worker, never by ``import blocks``.
"""

from __future__ import annotations

import contextlib
import io

from prefect import flow, get_run_logger

from blocks.cli.main import main


@flow(name="blocks-gc")
def gc() -> str:
    """Shred every deleted block whose recovery window has passed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["gc"])
    logger = get_run_logger()
    for line in (out.getvalue() + err.getvalue()).splitlines():
        logger.info(line)
    if code != 0:
        raise RuntimeError(f"blocks gc exited with code {code}: {err.getvalue()[-500:]}")
    return out.getvalue()
