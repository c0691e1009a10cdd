"""The seed pipeline as a Prefect flow: the three steps of ``pipeline.py`` as retried tasks.

Each task loads its blocks from the Blocks registry when it runs (``S3Bucket.load``,
``DatabaseCredentials.load``), so a rotated password reaches the next run with no redeploy.
``scripts/demo.sh`` deploys it (entrypoint ``flow.py:seed_pipeline``) on a process work pool
published by Terraform and runs it with ``prefect worker start --pool ... --run-once``; its
flow runs reach the registry through a ``blocks server`` with ``BLOCKS_API_URL`` and a read
token (``BLOCKS_API_TOKEN``) and nothing else (see docs/worker.md).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from prefect import flow, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline

RETRIES = {"retries": 3, "retry_delay_seconds": [1, 2, 4]}


@task(**RETRIES)
def extract(bucket: str) -> list[dict[str, str]]:
    """``pipeline.extract``: read the orders through the S3Bucket block."""
    return pipeline.extract(bucket)


@task(**RETRIES)
def transform(orders: list[dict[str, str]]) -> list[dict[str, Any]]:
    """``pipeline.transform``: totals per customer."""
    return pipeline.transform(orders)


@task(**RETRIES)
def load(rows: list[dict[str, Any]], database: str, bucket: str, run_label: str) -> dict[str, Any]:
    """``pipeline.load``: rows through the DatabaseCredentials block, a report to the bucket."""
    return pipeline.load(rows, database, bucket, run_label)


def blocks_environment() -> dict[str, str]:
    """The run's ``BLOCKS_*`` settings, every value but the server's URL masked."""
    return {name: value if name == "BLOCKS_API_URL" else "****"
            for name, value in sorted(os.environ.items()) if name.startswith("BLOCKS_")}


@flow(name="seed-pipeline", log_prints=True)
def seed_pipeline(bucket: str = "lake", database: str = "warehouse",
                  run_label: str = "manual", result_path: str | None = None) -> dict[str, Any]:
    """extract -> transform -> load; the result also goes to ``result_path`` when given."""
    done = load(transform(extract(bucket)), database, bucket, run_label)
    done["blocks_environment"] = blocks_environment()
    print(f"seed pipeline {run_label}: {done['rows']} rows written as {done['database_role']}")
    if result_path:
        Path(result_path).write_text(json.dumps(done, sort_keys=True))
    return done
