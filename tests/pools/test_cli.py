"""``blocks pools ...`` commands, and the acceptance journey run in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.pools import WorkPool, default_base_job_template
from tests.cli_process import run_cli

SECRET = "hunter2-k8s-db-password"
PLACEHOLDER = "{{ blocks.secret.db-password }}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


# -- every command, in-process -------------------------------------------------------------


def test_create_ls_inspect(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    created = run_json(capsys, "pools", "create", "k8s", "--type", "kubernetes",
                       "--description", "prod cluster", "--concurrency-limit", "10")
    assert (created["name"], created["type"], created["version"]) == ("k8s", "kubernetes", 1)
    assert created["base_job_template"] == default_base_job_template("kubernetes")
    listed = run_json(capsys, "pools", "ls")
    assert [(p["name"], p["concurrency_limit"]) for p in listed] == [("k8s", 10)]
    inspected = run_json(capsys, "pools", "inspect", "k8s")
    assert inspected["description"] == "prod cluster"
    assert [q["name"] for q in inspected["queues"]] == ["default"]
    code, out, _ = run(capsys, "pools", "inspect", "k8s")
    assert code == 0 and "k8s  (kubernetes)  version 1 of 1" in out


def test_create_with_a_template_file(
    blocks_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = default_base_job_template("process")
    template["variables"]["properties"]["command"]["default"] = "python -m flows"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    run_json(capsys, "pools", "create", "local", "--type", "process",
             "--base-job-template", str(path))
    assert WorkPool.load("local").base_job_template == template


def test_create_with_an_invalid_template_names_the_path(
    blocks_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = default_base_job_template("process")
    template["job_configuration"]["command"] = "{{ comand }}"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    code, _, err = run(capsys, "pools", "create", "local", "--type", "process",
                       "--base-job-template", str(path))
    assert code == 1
    assert "job_configuration.command" in err and "{{ comand }}" in err


def test_create_with_unknown_type_is_a_usage_error(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "pools", "create", "x", "--type", "lambda")
    assert code == 2 and "invalid choice" in err


def test_create_twice_is_refused(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, "pools", "create", "p", "--type", "process")
    code, _, err = run(capsys, "pools", "create", "p", "--type", "process")
    assert code == 1 and "already exists" in err


def test_update_pause_resume_history_rm(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "pools", "create", "p", "--type", "docker")
    updated = run_json(capsys, "pools", "update", "p", "--description", "d",
                       "--concurrency-limit", "3")
    assert (updated["version"], updated["description"], updated["concurrency_limit"]) == (
        2, "d", 3)
    assert run_json(capsys, "pools", "pause", "p")["is_paused"] is True
    assert run_json(capsys, "pools", "resume", "p")["is_paused"] is False
    cleared = run_json(capsys, "pools", "update", "p", "--no-concurrency-limit")
    assert cleared["concurrency_limit"] is None
    assert [v["version"] for v in run_json(capsys, "pools", "history", "p")] == [1, 2, 3, 4, 5]
    code, _, err = run(capsys, "pools", "update", "p", "--description", "x",
                       "--expected-version", "1")
    assert code == 1 and "someone else wrote first" in err
    assert run_json(capsys, "pools", "rm", "p") == {"deleted": "p"}
    code, _, err = run(capsys, "pools", "inspect", "p")
    assert code == 1 and "no work pool 'p'" in err


def test_update_refuses_a_bad_concurrency_limit(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "pools", "create", "p", "--type", "docker")
    code, _, err = run(capsys, "pools", "update", "p", "--concurrency-limit", "-1")
    assert code == 1 and "concurrency_limit" in err


def test_default_template_prints_the_types_template(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for pool_type in ("process", "docker", "ecs", "kubernetes"):
        code, out, _ = run(capsys, "pools", "default-template", pool_type)
        assert code == 0
        assert json.loads(out) == default_base_job_template(pool_type)  # type: ignore[arg-type]


def test_queue_create_with_a_taken_priority_moves_the_others_and_says_so(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "pools", "create", "p", "--type", "process")
    run_json(capsys, "pools", "queues", "create", "p", "bulk", "--priority", "2")
    code, _, err = run(capsys, "pools", "queues", "create", "p", "crit", "--priority", "1")
    assert code == 0, err
    assert err.splitlines() == [
        "created queue crit of work pool p (priority 1)",
        "moved queue default from priority 1 to 2",
        "moved queue bulk from priority 2 to 3",
    ]
    assert [(q["name"], q["priority"]) for q in run_json(capsys, "pools", "queues", "ls", "p")
            ] == [("crit", 1), ("default", 2), ("bulk", 3)]
    code, _, err = run(capsys, "pools", "queues", "update", "p", "bulk", "--priority", "1")
    assert code == 0, err
    assert "moved queue crit from priority 1 to 2" in err
    assert "moved queue default from priority 2 to 3" in err


def test_queue_commands(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, "pools", "create", "p", "--type", "process")
    created = run_json(capsys, "pools", "queues", "create", "p", "critical", "--priority", "1",
                       "--description", "urgent", "--concurrency-limit", "2")
    assert (created["name"], created["priority"], created["concurrency_limit"]) == (
        "critical", 1, 2)
    assert run_json(capsys, "pools", "queues", "inspect", "p", "default")["priority"] == 2
    assert run_json(capsys, "pools", "queues", "create", "p", "bulk")["priority"] == 3
    assert [q["name"] for q in run_json(capsys, "pools", "queues", "ls", "p")] == [
        "critical", "default", "bulk"]
    updated = run_json(capsys, "pools", "queues", "update", "p", "bulk", "--priority", "7",
                       "--no-concurrency-limit")
    assert (updated["priority"], updated["version"]) == (7, 2)
    assert run_json(capsys, "pools", "queues", "pause", "p", "bulk")["is_paused"] is True
    assert run_json(capsys, "pools", "queues", "resume", "p", "bulk")["is_paused"] is False
    assert run_json(capsys, "pools", "queues", "inspect", "p", "bulk")["version"] == 4
    code, _, err = run(capsys, "pools", "queues", "update", "p", "bulk", "--priority", "1",
                       "--expected-version", "1")
    assert code == 1 and "someone else wrote first" in err
    assert run_json(capsys, "pools", "queues", "rm", "p", "bulk") == {
        "deleted": {"pool": "p", "queue": "bulk"}}
    code, _, err = run(capsys, "pools", "queues", "rm", "p", "default")
    assert code == 1 and "cannot be deleted" in err
    code, _, err = run(capsys, "pools", "queues", "create", "p", "critical")
    assert code == 1 and "already has a queue" in err
    code, _, err = run(capsys, "pools", "queues", "create", "p", "zero", "--priority", "0")
    assert code == 1 and "priority" in err
    code, out, err = run(capsys, "pools", "queues", "ls", "p")
    assert code == 0, err
    assert out.splitlines()[0].split() == [
        "NAME", "PRIORITY", "PAUSED", "CONCURRENCY", "VERSION", "DESCRIPTION"]


def test_render_reports_a_bad_value_naming_the_variable(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "pools", "create", "k8s", "--type", "kubernetes")
    code, _, err = run(capsys, "pools", "render", "k8s", "--var", "finished_job_ttl=soon")
    assert code == 1 and "job_variables.finished_job_ttl" in err and "soon" not in err
    code, _, err = run(capsys, "pools", "render", "k8s", "--var", "imag=x")
    assert code == 1 and "job_variables.imag: not a job variable" in err


# -- acceptance: create with the CLI, render, and the secret never printed -----------------


def blocks_cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env["BLOCKS_HOME"] = str(home)
    return run_cli(argv, env=env)


def test_kubernetes_pool_renders_the_secret_and_the_cli_never_prints_it(
    blocks_home: Path, tmp_path: Path
) -> None:
    registry = Registry(Settings(home=blocks_home))
    Secret(value=SECRET).save("db-password", registry=registry)

    created = blocks_cli(blocks_home, "pools", "create", "k8s", "--type", "kubernetes")
    assert created.returncode == 0, created.stderr

    # The job a worker runs: the manifest holds the secret in clear.
    job = WorkPool.load("k8s", registry=registry).render_job(
        {"image": "repo/flows:1.2", "env": {"DB_PASSWORD": PLACEHOLDER}}
    )
    manifest = job.configuration["job_manifest"]
    assert manifest["kind"] == "Job"
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "repo/flows:1.2"
    assert {"name": "DB_PASSWORD", "value": SECRET} in container["env"]
    assert SECRET not in repr(job)

    # The placeholder can also live in the pool's template defaults.
    template = default_base_job_template("kubernetes")
    template["variables"]["properties"]["env"]["default"] = {"DB_PASSWORD": PLACEHOLDER}
    template_file = tmp_path / "template.json"
    template_file.write_text(json.dumps(template))
    updated = blocks_cli(blocks_home, "pools", "update", "k8s",
                         "--base-job-template", str(template_file))
    assert updated.returncode == 0, updated.stderr
    registry.close()

    outputs = []
    for argv in (
        ("pools", "render", "k8s"),
        ("pools", "render", "k8s", "--json"),
        ("pools", "render", "k8s", "--var", f"env={json.dumps({'OTHER': PLACEHOLDER})}"),
        ("pools", "render", "k8s", "--var", "command=echo " + PLACEHOLDER, "--json"),
        ("pools", "render", "k8s", "--var", "finished_job_ttl=" + PLACEHOLDER),
        ("pools", "inspect", "k8s"),
        ("pools", "inspect", "k8s", "--json"),
        ("pools", "ls", "--json"),
        ("pools", "history", "k8s"),
        ("pools", "queues", "ls", "k8s", "--json"),
    ):
        result = blocks_cli(blocks_home, *argv)
        outputs.append(result)
        assert SECRET not in result.stdout + result.stderr, argv

    rendered = json.loads(outputs[1].stdout)
    assert rendered["secrets_masked"] is True
    env = rendered["configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0][
        "env"]
    assert {"name": "DB_PASSWORD", "value": "********"} in env
    assert json.loads(outputs[3].stdout)["configuration"]["command"] == "echo ********"
    assert outputs[4].returncode == 1  # a bad value fails without echoing the resolved secret

    # Only an explicit --show-secrets prints it (and proves the checks above can see it).
    shown = blocks_cli(blocks_home, "pools", "render", "k8s", "--show-secrets")
    assert shown.returncode == 0 and SECRET in shown.stdout
