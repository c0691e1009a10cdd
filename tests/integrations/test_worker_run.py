"""A pool published from Blocks runs a flow in a real ``prefect worker``: the flow's task loads an
S3Bucket from Blocks (moto), and a mirrored Secret reaches the run's environment through
``{{ prefect.blocks.secret.db-pass }}``; after a save, the next run gets the new value."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Secret, Settings
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool, default_base_job_template
from tests.prefect_server import client_env
from tests.servers import Server, find_binary

HERE = Path(__file__).parent


def deployment(client: PrefectClient, pool: str, queue: str) -> str:
    flow_id = client.request("POST", "flows/", "flow", json={"name": "bridge-etl"})["id"]
    dep = client.request("POST", "deployments/", "deployment", json={
        "name": f"{pool}-etl", "flow_id": flow_id, "work_pool_name": pool,
        "work_queue_name": queue, "entrypoint": "bridge_flow.py:bridge_etl",
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {
            "directory": str(HERE)}}],
        "parameter_openapi_schema": {"type": "object", "properties": {}},
    })
    return str(dep["id"])


def run_once(client: PrefectClient, server: Server, home: Path, dep: str, pool: str,
             params: dict[str, Any], blocks_home: Path) -> dict[str, Any]:
    run = client.request("POST", f"deployments/{dep}/create_flow_run", "flow run",
                         json={"parameters": params})
    env = client_env(server, home / "worker")
    env["BLOCKS_HOME"] = str(blocks_home)
    done = subprocess.run(
        [find_binary("prefect"), "worker", "start", "--pool", pool, "--run-once"],
        env=env, capture_output=True, text=True, timeout=240,
    )
    state = client.request("GET", f"flow_runs/{run['id']}", "flow run")["state"]
    assert state["type"] == "COMPLETED", (state, done.stdout[-3000:], done.stderr[-3000:])
    return json.loads(Path(params["out"]).read_text())


def test_published_pool_runs_the_flow_with_blocks_and_a_mirrored_secret(
    blocks_home: Path, prefect_server: Server, moto_server: Server, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    registry = Registry(Settings(home=blocks_home))
    creds = AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing-secret",
                           region_name="us-east-1",
                           aws_client_parameters={"endpoint_url": moto_server.url})
    creds.get_s3_client().create_bucket(Bucket="bridge-lake")
    creds.save("lake", registry=registry)
    S3Bucket(bucket_name="bridge-lake", credentials=AwsCredentials.load("lake", registry=registry)
             ).save("lake", registry=registry)
    S3Bucket.load("lake", registry=registry).write_path("in/data.txt", b"rows from the lake")
    Secret(value="pass-v1").save("db-pass", registry=registry, mirror_to_prefect=True)

    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = {
        "DB_PASS": "{{ prefect.blocks.secret.db-pass }}"}
    pool = WorkPool(name="bridge-proc", type="process", base_job_template=template)
    pool.save(registry=registry)
    pool.create_queue("critical", priority=2, registry=registry)
    pool.create_queue("bulk", priority=3, registry=registry)
    with PrefectClient(prefect_server.url) as client:
        publish(client, [pool], registry)
        dep = deployment(client, "bridge-proc", "critical")
        params = {"bucket_name": "lake", "key": "in/data.txt", "out": str(tmp_path / "1.json")}
        first = run_once(client, prefect_server, tmp_path, dep, "bridge-proc", params,
                         blocks_home)
        assert first == {"content": "rows from the lake", "db_pass": "pass-v1"}

        Secret(value="pass-v2").save("db-pass", overwrite=True, registry=registry)
        params["out"] = str(tmp_path / "2.json")
        second = run_once(client, prefect_server, tmp_path, dep, "bridge-proc", params,
                          blocks_home)
        assert second["db_pass"] == "pass-v2"
    registry.close()
