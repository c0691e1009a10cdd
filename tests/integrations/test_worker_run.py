"""A pool published from Blocks runs a flow in a real ``prefect worker``: the flow's task loads an
S3Bucket from Blocks (moto), and a mirrored Secret reaches the run's environment through
``{{ prefect.blocks.secret.db-pass }}``; after a save, and after ``blocks rotate``, the next run
gets the new value."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Secret, Settings
from blocks.errors import BlockNotFound
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool, default_base_job_template
from tests.prefect_server import client_env
from tests.servers import Server, closed_port_url, find_binary

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
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from blocks.cli.main import main

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

        # A rotation by the real CLI (rotator "generated") moves the current stage without a
        # plain save: the mirror follows it too, and says so.
        assert main(["rotation", "set", "secret/db-pass", "--rotator", "generated",
                     "--every", "30d"]) == 0
        assert main(["rotate", "secret/db-pass", "--now"]) == 0
        rotated = Secret.load("db-pass", registry=registry)
        assert rotated.get() not in ("pass-v1", "pass-v2")
        capsys.readouterr()
        assert main(["mirror", "status", "--json"]) == 0
        out, err = capsys.readouterr()
        [status] = json.loads(out)
        assert (status["ref"], status["state"], status["pushed_version"]) == (
            "secret/db-pass", "current", rotated.block_version)
        assert str(rotated.get()) not in out + err
        params["out"] = str(tmp_path / "3.json")
        third = run_once(client, prefect_server, tmp_path, dep, "bridge-proc", params,
                         blocks_home)
        assert third["db_pass"] == rotated.get()
    registry.close()


def run_deployment_once(client: PrefectClient, server: Server, home: Path, dep: str,
                        pool: str) -> tuple[dict[str, Any], str]:
    run = client.request("POST", f"deployments/{dep}/create_flow_run", "flow run", json={})
    done = subprocess.run(
        [find_binary("prefect"), "worker", "start", "--pool", pool, "--run-once"],
        env=client_env(server, home / "worker"), capture_output=True, text=True, timeout=240,
    )
    state = client.request("GET", f"flow_runs/{run['id']}", "flow run")["state"]
    return state, done.stdout[-3000:] + done.stderr[-3000:]


def test_deploy_rotation_schedules_the_shipped_flow_and_a_failure_is_a_failed_flow_run(
    blocks_home: Path, prefect_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from blocks.cli.main import main

    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    # A due rotation whose upstream (IAM) does not answer: 'blocks rotate --due' must fail.
    registry = Registry(Settings(home=blocks_home))
    AwsCredentials(
        aws_access_key_id="AKIAEXAMPLEEXAMPLE01", aws_secret_access_key="not-a-real-secret",
        region_name="us-east-1",
        aws_client_parameters={"endpoint_url": closed_port_url()},
    ).save("iam-down", registry=registry)
    registry.close()
    assert main(["rotation", "set", "aws-credentials/iam-down", "--rotator",
                 "aws-iam-access-key", "--every", "1s"]) == 0
    time.sleep(2)  # due now, whether a new policy counts from now or from never
    assert main(["pools", "create", "rotation", "--type", "process"]) == 0
    assert main(["pools", "publish", "rotation"]) == 0
    capsys.readouterr()
    assert main(["prefect", "deploy-rotation", "--pool", "rotation", "--cron", "*/15 * * * *",
                 "--env", "AWS_MAX_ATTEMPTS=1", "--json"]) == 0
    deployed = json.loads(capsys.readouterr().out)
    with PrefectClient(prefect_server.url) as client:
        dep = client.request("GET", f"deployments/{deployed['id']}", "deployment")
        assert dep["work_pool_name"] == "rotation"
        assert [s["schedule"]["cron"] for s in dep["schedules"]] == ["*/15 * * * *"]
        env = dep["job_variables"]["env"]
        assert env["AWS_MAX_ATTEMPTS"] == "1"
        assert env["BLOCKS_DATABASE_URL"].endswith("blocks.db")
        state, logs = run_deployment_once(client, prefect_server, tmp_path, dep["id"],
                                          "rotation")
    assert state["type"] == "FAILED", (state, logs)
    assert "blocks rotate --due exited with code" in (state.get("message") or ""), state


def test_deployed_rotation_flow_rotates_a_due_secret_in_a_real_worker_run(
    blocks_home: Path, prefect_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("blocks.rotation", reason="needs the rotation engine (issue 9)")
    from blocks.cli.main import main

    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    registry = Registry(Settings(home=blocks_home))
    Secret(value="before-rotation").save("rotated", registry=registry)
    assert main(["rotation", "set", "secret/rotated", "--rotator", "generated",
                 "--every", "1s"]) == 0
    time.sleep(2)  # due now, whether a new policy counts from now or from never
    assert main(["pools", "create", "rotation-ok", "--type", "process"]) == 0
    assert main(["pools", "publish", "rotation-ok"]) == 0
    from blocks.integrations.prefect.deploy import deploy_rotation

    with PrefectClient(prefect_server.url) as client:
        dep = deploy_rotation(client, registry, pool="rotation-ok", cron="0 0 1 1 *")
        state, logs = run_deployment_once(client, prefect_server, tmp_path, dep["id"],
                                          "rotation-ok")
    assert state["type"] == "COMPLETED", (state, logs)
    assert Secret.load("rotated", registry=registry).get() != "before-rotation"
    registry.close()


def test_deployed_gc_flow_shreds_a_due_deleted_block_in_a_real_worker_run(
    blocks_home: Path, prefect_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from blocks.cli.main import main

    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    registry = Registry(Settings(home=blocks_home))
    Secret(value="shred-me").save("due", registry=registry)
    Secret(value="keep-me").save("kept", registry=registry)
    registry.delete("secret/due", recovery_window="1s")
    registry.delete("secret/kept")
    time.sleep(1.5)
    assert main(["pools", "create", "gc-pool", "--type", "process"]) == 0
    assert main(["pools", "publish", "gc-pool"]) == 0
    capsys.readouterr()
    assert main(["prefect", "deploy-gc", "--pool", "gc-pool", "--cron", "17 3 * * *",
                 "--json"]) == 0
    deployed = json.loads(capsys.readouterr().out)
    with PrefectClient(prefect_server.url) as client:
        dep = client.request("GET", f"deployments/{deployed['id']}", "deployment")
        assert dep["entrypoint"].endswith("flows/gc.py:gc") and dep["name"] == "gc"
        state, logs = run_deployment_once(client, prefect_server, tmp_path, dep["id"],
                                          "gc-pool")
    assert state["type"] == "COMPLETED", (state, logs)
    assert [d.ref for d in registry.deleted()] == ["secret/kept"]
    with pytest.raises(BlockNotFound, match="a shredded block cannot be brought back"):
        registry.undelete("secret/due")
    registry.close()


def test_deploy_refuses_an_inline_master_key_and_an_unpublished_pool(
    bridge_registry: Registry, prefect: PrefectClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blocks.errors import ConfigurationError, PrefectError
    from blocks.integrations.prefect.deploy import deploy_rotation

    with pytest.raises(PrefectError, match="publish it first: blocks pools publish nowhere"):
        deploy_rotation(prefect, bridge_registry, pool="nowhere", cron="* * * * *")
    inline = Registry(Settings(home=bridge_registry.settings.home,
                               master_key="A" * 43 + "="))
    WorkPool(name="inline-key", type="process").save(registry=bridge_registry)
    publish(prefect, [WorkPool.load("inline-key", registry=bridge_registry)], bridge_registry)
    with pytest.raises(ConfigurationError, match="would store the master key in Prefect"):
        deploy_rotation(prefect, inline, pool="inline-key", cron="* * * * *")
    inline.close()


def test_deploying_again_updates_in_place_and_another_pool_or_queue_gets_a_new_deployment(
    bridge_registry: Registry, prefect: PrefectClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from blocks.cli.main import main
    from blocks.integrations.prefect.deploy import deploy_rotation

    for name in ("redeploy-a", "redeploy-b"):
        WorkPool(name=name, type="process").save(registry=bridge_registry)
        publish(prefect, [WorkPool.load(name, registry=bridge_registry)], bridge_registry)
    first = deploy_rotation(prefect, bridge_registry, pool="redeploy-a", cron="0 0 1 1 *",
                            job="gc")
    again = deploy_rotation(prefect, bridge_registry, pool="redeploy-a", cron="0 6 * * *",
                            job="gc")
    assert again["id"] == first["id"]  # same pool and queue: Prefect updates it
    assert [s["schedule"]["cron"] for s in again["schedules"]] == ["0 6 * * *"]

    replaced: list[dict[str, Any]] = []
    queued = deploy_rotation(prefect, bridge_registry, pool="redeploy-a", cron="0 6 * * *",
                             queue="urgent", job="gc", on_replace=replaced.append)
    moved = deploy_rotation(prefect, bridge_registry, pool="redeploy-b", cron="0 6 * * *",
                            job="gc", on_replace=replaced.append)
    assert len({first["id"], queued["id"], moved["id"]}) == 3  # each move: created anew
    assert [(r["id"], r["work_pool_name"], r["work_queue_name"]) for r in replaced] == [
        (first["id"], "redeploy-a", "default"), (queued["id"], "redeploy-a", "urgent")]
    found = prefect.request("GET", "deployments/name/blocks-gc/gc", "deployment")
    assert found["id"] == moved["id"] and found["work_pool_name"] == "redeploy-b"
    assert found["work_queue_id"] == prefect.request(
        "GET", "work_pools/redeploy-b", "work pool")["default_queue_id"]
    for gone in (first["id"], queued["id"]):
        assert prefect.request("GET", f"deployments/{gone}", "deployment",
                               missing_ok=True) is None

    capsys.readouterr()  # the CLI names the deployment it replaced
    assert main(["prefect", "deploy-gc", "--pool", "redeploy-a", "--cron", "0 6 * * *",
                 "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["replaced"] == moved["id"] and back["id"] != moved["id"]
    assert main(["prefect", "deploy-gc", "--pool", "redeploy-a", "--cron", "0 7 * * *",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {**back, "cron": "0 7 * * *",
                                                   "replaced": None}
    prefect.request("DELETE", f"deployments/{back['id']}", "deployment")
