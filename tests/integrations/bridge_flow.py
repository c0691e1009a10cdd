"""The flow a real Prefect worker runs in the bridge tests (deployed from this file).

It reports what Blocks-backed code sees inside a flow run: the S3 object read through an
``S3Bucket`` loaded from Blocks, and the ``DB_PASS`` environment variable that the pool's job
template filled from ``{{ prefect.blocks.secret.db-pass }}`` (a block mirrored into Prefect).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from prefect import flow, task

from blocks import S3Bucket


@task
def read_lake(bucket_name: str, key: str) -> str:
    return S3Bucket.load(bucket_name).read_path(key).decode()


@flow
def bridge_etl(bucket_name: str, key: str, out: str) -> None:
    content = read_lake(bucket_name, key)
    Path(out).write_text(json.dumps({"content": content, "db_pass": os.environ.get("DB_PASS")}))
