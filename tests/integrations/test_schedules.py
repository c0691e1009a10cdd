"""Cron schedules fire through Prefect's own scheduler, and real workers run what it scheduled.

Nothing here creates a flow run: Prefect's scheduler makes them from the deployments' cron
strings (the test server runs its scheduler loops every few seconds, tests/prefect_server.py).
The crons have a seconds field (croniter's sixth field, which Prefect accepts) so that a run is
due within 15 s instead of a minute; the prefect.yaml deployed is the one of
``examples/prefect-deployment`` (docs/prefect-deployments.md) with only its cron changed.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Secret, Settings
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.deploy import registry_env
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool, default_base_job_template
from tests.prefect_server import client_env
from tests.servers import Server, find_binary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prefect-deployment"
DOC_CRON = 'cron: "0 6 * * *"'
FAST_CRON = "* * * * * */15"  # seconds 0, 15, 30, 45 of every minute
PERIOD_S = 15
PREFETCH_S = PERIOD_S + 5
"""A worker takes the next scheduled run even if it is a whole period away (it then waits for
its time: Prefect's server does not let a run start early)."""


ROTATION_DEPLOYMENT = "blocks-rotate-due/rotate-due"
"""``blocks prefect deploy-rotation``'s deployment (flow/deployment)."""


def worker_env(server: Server, home: Path) -> dict[str, str]:
    """A worker's environment: the Prefect API and nothing of Blocks (the runs get that from
    the pool's env defaults or the deployment's job variables)."""
    env = {k: v for k, v in client_env(server, home).items() if not k.startswith("BLOCKS_")}
    env["PREFECT_WORKER_PREFETCH_SECONDS"] = str(PREFETCH_S)
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the flow's own log lines reach the server
    return env


def run_next_scheduled(server: Server, home: Path, pool: str) -> str:
    """``prefect worker start --run-once --limit 1``: the worker runs the earliest due run."""
    done = subprocess.run(
        [find_binary("prefect"), "worker", "start", "--pool", pool, "--run-once", "--limit", "1"],
        env=worker_env(server, home), capture_output=True, text=True, timeout=240,
    )
    return done.stdout[-3000:] + done.stderr[-3000:]


def runs_of(client: PrefectClient, deployment_id: str,
            pool: str | None = None) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}
    if pool is not None:
        body["work_pools"] = {"name": {"any_": [pool]}}
    return sorted(client.request("POST", "flow_runs/filter", "flow runs", json=body),
                  key=lambda run: run["expected_start_time"])


def wait_for_scheduled_runs(client: PrefectClient, server: Server, deployment_id: str,
                            pool: str) -> list[dict[str, Any]]:
    """The runs Prefect's scheduler made for the deployment in ``pool`` (none by anyone else:
    this test creates no run)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = [r for r in runs_of(client, deployment_id, pool)
                if r["state_type"] == "SCHEDULED"]
        if runs:
            return runs
        time.sleep(0.5)
    raise AssertionError(f"Prefect's scheduler made no run in 60 s:\n{server.log_tail(40)}")


def completed(client: PrefectClient, deployment_id: str) -> list[dict[str, Any]]:
    return [r for r in runs_of(client, deployment_id) if r["state_type"] == "COMPLETED"]


def run_until_one_more_completes(client: PrefectClient, server: Server, home: Path, pool: str,
                                 deployment_id: str) -> tuple[dict[str, Any], str]:
    """Start ``--run-once`` workers until one more run of the deployment has completed; that
    run, and the workers' output.

    A worker that finds nothing due yet (a loaded machine can start it after the prefetch
    window of the earliest run has passed the query) exits having run nothing: start
    another. A run that fails or crashes is a failure of what it ran: stop and show why.
    """
    ended = ("COMPLETED", "FAILED", "CRASHED")
    # Runs that ended before (a test's first run, when it waits for a second) do not count:
    # only the runs that end from here on.
    before = {r["id"] for r in runs_of(client, deployment_id) if r["state_type"] in ended}
    outputs: list[str] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        outputs.append(run_next_scheduled(server, home, pool))
        runs = [r for r in runs_of(client, deployment_id) if r["id"] not in before]
        broken = [r for r in runs if r["state_type"] in ("FAILED", "CRASHED")]
        assert not broken, (f"runs {[r['id'] for r in broken]} ended "
                            f"{[r['state_type'] for r in broken]}:\n" + "\n".join(outputs)
                            + logs_of(client, [r["id"] for r in broken]))
        new = [r for r in runs if r["state_type"] == "COMPLETED"]
        if new:
            return new[0], "\n".join(outputs)
    raise AssertionError(
        f"no run of the deployment completed in 240 s; states: "
        f"{[r['state_type'] for r in runs_of(client, deployment_id)]}\n"
        + diagnosis(client, deployment_id, pool) + "\n".join(outputs))


def diagnosis(client: PrefectClient, deployment_id: str, pool: str) -> str:
    """:func:`what_workers_saw`, or why it could not be had (the failure it explains stays)."""
    try:
        return what_workers_saw(client, deployment_id, pool)
    except Exception as exc:  # the test's own failure must not be hidden by this one
        return f"(no diagnosis: {type(exc).__name__}: {exc})\n"


def what_workers_saw(client: PrefectClient, deployment_id: str, pool: str) -> str:
    """What a worker of ``pool`` had to choose from when it found nothing to run: the
    deployment's pool, queue and schedules, the pool's and its queues' state, and the next
    scheduled runs (when, in which queue, made by which schedule), against the time now."""
    dep = client.request("GET", f"deployments/{deployment_id}", "deployment")
    lines = [f"now (UTC) {datetime.now(UTC).isoformat()}",
             f"deployment: pool {dep.get('work_pool_name')!r}, queue "
             f"{dep.get('work_queue_name')!r} ({dep.get('work_queue_id')}), paused "
             f"{dep.get('paused')}, updated {dep.get('updated')}, schedules "
             + str([(s.get("id"), s["schedule"].get("cron"), s.get("active"))
                    for s in dep.get("schedules") or []])]
    found = client.request("GET", f"work_pools/{pool}", "work pool", missing_ok=True) or {}
    lines.append(f"pool {pool!r}: paused {found.get('is_paused')}, concurrency "
                 f"{found.get('concurrency_limit')}, default queue "
                 f"{found.get('default_queue_id')}")
    for queue in client.request("POST", f"work_pools/{pool}/queues/filter", "queues", json={}):
        lines.append(f"  queue {queue['name']!r} ({queue['id']}): paused "
                     f"{queue.get('is_paused')}, concurrency {queue.get('concurrency_limit')}")
    soon = (datetime.now(UTC) + timedelta(seconds=PREFETCH_S)).isoformat()
    offered = client.request("POST", f"work_pools/{pool}/get_scheduled_flow_runs",
                             "scheduled runs", json={"scheduled_before": soon})
    lines.append("a worker asking now would get: " + str(
        [(r["flow_run"]["id"], r["flow_run"]["expected_start_time"]) for r in offered]))
    scheduled = [r for r in runs_of(client, deployment_id) if r["state_type"] == "SCHEDULED"]
    elsewhere = [r for r in scheduled if r.get("work_queue_id") != dep.get("work_queue_id")]
    lines.append(f"{len(elsewhere)} of {len(scheduled)} scheduled runs are in queues other "
                 f"than the deployment's: "
                 f"{sorted({str(r.get('work_queue_id')) for r in elsewhere})}")
    for run in scheduled[:8]:
        lines.append(f"  run {run['id']}: expected {run['expected_start_time']}, state "
                     f"{run['state_name']}, queue {run.get('work_queue_name')!r} "
                     f"({run.get('work_queue_id')}), schedule "
                     f"{(run.get('created_by') or {}).get('id')}, created {run.get('created')}")
    return "\n".join(lines) + "\n"


def logs_of(client: PrefectClient, run_ids: list[str]) -> str:
    logs = client.request("POST", "logs/filter", "logs", json={
        "logs": {"flow_run_id": {"any_": run_ids}}})
    return "\n".join(entry["message"] for entry in logs)


@pytest.mark.timeout(900)  # two scheduled runs, each maybe a worker start or two
def test_prefect_yaml_cron_deployment_runs_on_schedule_in_a_worker_and_a_rotation_reaches_the_next_run(  # noqa: E501
    blocks_home: Path, prefect_server: Server, moto_server: Server, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from blocks.cli.main import main

    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    registry = Registry(Settings(home=blocks_home))
    creds = AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing-secret",
                           region_name="us-east-1",
                           aws_client_parameters={"endpoint_url": moto_server.url})
    bucket_name = f"reports-{secrets.token_hex(4)}"
    creds.get_s3_client().create_bucket(Bucket=bucket_name)
    creds.save("reports-aws", registry=registry)
    S3Bucket(bucket_name=bucket_name,
             credentials=AwsCredentials.load("reports-aws", registry=registry),
             ).save("reports", registry=registry)
    Secret(value="token-v1").save("reporting-api-token", registry=registry)
    assert main(["rotation", "set", "secret/reporting-api-token", "--rotator", "generated",
                 "--every", "30d"]) == 0

    # The pool as docs/prefect-deployments.md declares it: the runs learn where the registry is
    # and which master key file opens it from the pool's env defaults (no secret in them).
    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = registry_env(registry)
    pool = WorkPool(name="etl", type="process", base_job_template=template)
    pool.save(registry=registry)

    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    text = (project / "prefect.yaml").read_text()
    assert text.count(DOC_CRON) == 1, "the example's cron changed: update DOC_CRON"
    (project / "prefect.yaml").write_text(text.replace(DOC_CRON, f'cron: "{FAST_CRON}"'))
    deploy_env = client_env(prefect_server, tmp_path / "deployer")
    deploy_env["PREFECT_API_URL"] = prefect_server.url

    with PrefectClient(prefect_server.url) as client:
        publish(client, [WorkPool.load("etl", registry=registry)], registry)
        done = subprocess.run([find_binary("prefect"), "--no-prompt", "deploy", "--all"],
                              cwd=project, env=deploy_env, capture_output=True, text=True,
                              timeout=240)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        deployment = client.request("GET", "deployments/name/nightly-export/nightly-export",
                                    "deployment")
        dep_id = deployment["id"]
        try:
            assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [FAST_CRON]
            scheduled = wait_for_scheduled_runs(client, prefect_server, dep_id, "etl")
            assert all(r["auto_scheduled"] and r["state_type"] == "SCHEDULED"
                       for r in scheduled)
            assert {r["expected_start_time"][17:19] for r in scheduled} <= {
                "00", "15", "30", "45"}

            first, logs = run_until_one_more_completes(
                client, prefect_server, tmp_path / "worker", "etl", dep_id)
            assert first["auto_scheduled"], logs
            first_report = _report(registry, first)
            assert first_report["token_version"] == 1

            assert main(["rotate", "secret/reporting-api-token", "--now"]) == 0
            rotated = Secret.load("reporting-api-token", registry=registry)
            assert rotated.block_version == 2

            second, logs = run_until_one_more_completes(
                client, prefect_server, tmp_path / "worker", "etl", dep_id)
            assert len(completed(client, dep_id)) == 2, logs
            assert second["auto_scheduled"]
            assert second["expected_start_time"] > first["expected_start_time"]
            assert _report(registry, second)["token_version"] == 2
            run_logs = logs_of(client, [first["id"], second["id"]])
            assert "with secret/reporting-api-token version 2" in run_logs
            for value in ("token-v1", str(rotated.get())):
                assert value not in run_logs + logs + capsys.readouterr().out
        finally:
            client.request("DELETE", f"deployments/{dep_id}", "deployment")
    registry.close()


def _report(registry: Registry, run: dict[str, Any]) -> dict[str, Any]:
    when = run["expected_start_time"]  # 2026-01-01T06:00:00Z
    key = "exports/" + when[:19].replace("-", "").replace(":", "") + ".json"
    bucket = S3Bucket.load("reports", registry=registry)
    report: dict[str, Any] = json.loads(bucket.read_path(key))
    return report


@pytest.mark.timeout(600)
def test_deploy_rotation_cron_rotates_a_due_secret_on_schedule(
    blocks_home: Path, prefect_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from blocks.cli.main import main

    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    registry = Registry(Settings(home=blocks_home))
    Secret(value="before-the-schedule").save("scheduled", registry=registry)
    assert main(["rotation", "set", "secret/scheduled", "--rotator", "generated",
                 "--every", "1s"]) == 0
    time.sleep(1.5)  # due now
    for pool in ("rotation-before", "rotation-cron"):
        assert main(["pools", "create", pool, "--type", "process"]) == 0
        assert main(["pools", "publish", pool]) == 0
    with PrefectClient(prefect_server.url) as client:
        # Scheduled on another pool first, as a team moving it would have it: the second
        # deploy moves it (blocks.integrations.prefect.deploy._forget_if_moving).
        assert main(["prefect", "deploy-rotation", "--pool", "rotation-before",
                     "--cron", FAST_CRON]) == 0
        before = client.request("GET", f"deployments/name/{ROTATION_DEPLOYMENT}",
                                "deployment")
        wait_for_scheduled_runs(client, prefect_server, before["id"], "rotation-before")
        capsys.readouterr()
        assert main(["prefect", "deploy-rotation", "--pool", "rotation-cron",
                     "--cron", FAST_CRON]) == 0
        said = capsys.readouterr().err
        assert (f"rotate-due was on pool 'rotation-before', queue 'default': deleted it (id "
                f"{before['id']}) and created it anew") in said, said
        deployment = client.request("GET", f"deployments/name/{ROTATION_DEPLOYMENT}",
                                    "deployment")
        dep_id = deployment["id"]
        try:
            assert dep_id != before["id"], "moved in place: Prefect may make its runs in the " \
                "old pool's queue"
            assert client.request("GET", f"deployments/{before['id']}", "deployment",
                                  missing_ok=True) is None
            wait_for_scheduled_runs(client, prefect_server, dep_id, "rotation-cron")
            queues = {r["work_queue_id"] for r in runs_of(client, dep_id)
                      if r["state_type"] == "SCHEDULED"}
            assert queues == {deployment["work_queue_id"]}, queues
            run, logs = run_until_one_more_completes(
                client, prefect_server, tmp_path / "worker", "rotation-cron", dep_id)
            assert run["auto_scheduled"], logs
        finally:
            client.request("DELETE", f"deployments/{dep_id}", "deployment")
    rotated = Secret.load("scheduled", registry=registry)
    assert rotated.block_version == 2
    assert rotated.get() != "before-the-schedule"
    registry.close()
