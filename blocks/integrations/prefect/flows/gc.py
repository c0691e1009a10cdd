"""``blocks-gc``: runs ``blocks gc`` as a Prefect flow.

Deployed by ``blocks prefect deploy-gc --pool NAME --cron ...``: it shreds the deleted blocks
whose recovery window has passed. A block left waiting (a deleted block that is not due yet
still references it) or a refused schedule fails the flow run, so Prefect automations can
alert; the list of shredded blocks is in the run's logs. This module imports ``prefect``: it is
loaded by a Prefect worker, never by ``import blocks``.
"""

from __future__ import annotations

from prefect import flow

from blocks.integrations.prefect.flows.command import run_blocks


@flow(name="blocks-gc")
def gc() -> str:
    """Shred every deleted block whose recovery window has passed."""
    return run_blocks("gc")
