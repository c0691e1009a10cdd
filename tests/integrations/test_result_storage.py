"""An S3Bucket of Blocks as Prefect's ``result_storage``: a real flow on the session's Prefect
server persists its results to moto's S3 through the adapter and reads them back."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import AwsCredentials, ConfigurationError, Registry, S3Bucket, Secret
from tests.servers import Server

pytestmark = pytest.mark.aws


@pytest.fixture
def bucket(sqlite_registry: Registry, moto_server: Server) -> Iterator[S3Bucket]:
    creds = AwsCredentials(aws_access_key_id="AKIAEXAMPLEKEY000001",
                           aws_secret_access_key="result-storage-secret-never-shown",
                           region_name="us-east-1",
                           aws_client_parameters={"endpoint_url": moto_server.url})
    name = f"results-{secrets.token_hex(4)}"
    creds.get_s3_client().create_bucket(Bucket=name)
    block = S3Bucket(bucket_name=name, bucket_folder="prefect", credentials=creds)
    block.save("results", registry=sqlite_registry)
    yield block


def test_flow_results_persist_to_s3_through_blocks_and_are_read_back(
    bucket: S3Bucket, prefect_server: Server, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow, task
    from prefect.results import ResultStore
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from blocks.integrations.prefect.result_storage import BlocksStorage

    with temporary_settings({PREFECT_API_URL: prefect_server.url}):
        storage = BlocksStorage.of(bucket)
        storage.save("rs-results", overwrite=True)  # Prefect wants saved storage for tasks
    calls = []

    @task(persist_result=True, result_storage=storage, cache_key_fn=lambda *_: "rs-square-7")
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @flow(persist_result=True, result_storage=storage)
    def pipeline(x: int) -> dict[str, int]:
        return {"square": square(x)}

    with temporary_settings({PREFECT_API_URL: prefect_server.url}):
        state = pipeline(7, return_state=True)
        assert state.is_completed() and state.result() == {"square": 49}
        again = pipeline(7, return_state=True)  # the task's cached result comes from S3
        assert again.result() == {"square": 49}
    assert calls == [7]

    client = bucket.credentials.get_s3_client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket.bucket_name)["Contents"]]
    assert "prefect/rs-square-7" in keys and len(keys) >= 2
    record = ResultStore(result_storage=BlocksStorage(block_ref="s3-bucket/results")).read(
        "rs-square-7")
    assert record.result == 49  # read back through a storage that knows only the reference
    with temporary_settings({PREFECT_API_URL: prefect_server.url}):
        saved = BlocksStorage.load("rs-results")
    assert saved.block_ref == "s3-bucket/results"
    assert "result-storage-secret-never-shown" not in saved.model_dump_json()


def test_storage_needs_a_saved_block_that_reads_and_writes_paths() -> None:
    from blocks.integrations.prefect.result_storage import BlocksStorage

    with pytest.raises(ConfigurationError, match="save the S3Bucket"):
        BlocksStorage.of(S3Bucket(bucket_name="lake"))
    with pytest.raises(ConfigurationError, match="has no read_path or write_path"):
        BlocksStorage.of(Secret(value="x"))


def test_import_blocks_and_the_bridge_do_not_import_prefect(tmp_path: Path) -> None:
    probe = ("import blocks, blocks.integrations.prefect, blocks.integrations.mirrors, sys\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
