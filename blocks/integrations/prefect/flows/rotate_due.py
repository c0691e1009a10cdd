"""``blocks-rotate-due``: runs ``blocks rotate --due`` as a Prefect flow.

Deployed by ``blocks prefect deploy-rotation --pool NAME --cron ...``. A rotation that fails
fails the flow run (so Prefect automations can alert); the summary table is in the run's logs.
This module imports ``prefect``: it is loaded by a Prefect worker, never by ``import blocks``.
"""

from __future__ import annotations

from prefect import flow

from blocks.integrations.prefect.flows.command import run_blocks


@flow(name="blocks-rotate-due")
def rotate_due() -> str:
    """Rotate every block whose rotation is due, resuming interrupted rotations."""
    return run_blocks("rotate", "--due")
