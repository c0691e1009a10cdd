"""Issue 13, point 4: JSON secrets render as JSON, and masking follows where secrets went.

The masked view is the job rendered a second time from each secret's masked form, so a secret
holding both quote kinds cannot slip through, and configuration that merely contains a secret's
text (``acme/webapp`` when a secret is ``app``) is not masked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.codec import MASK
from blocks.errors import ValidationError
from blocks.pools import WorkPool

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

NASTY = {"password": "it's \"quoted\" both ways", "user": "etl"}
NASTY_TEXT = json.dumps(NASTY, separators=(",", ":"), sort_keys=True)


def _pool(registry: Registry, name: str, pool_type: str) -> WorkPool:
    return WorkPool(name=name, type=pool_type).save(registry=registry)  # type: ignore[arg-type]


def _k8s_container(config: dict[str, Any]) -> dict[str, Any]:
    return config["job_manifest"]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def _ecs_container(config: dict[str, Any]) -> dict[str, Any]:
    return config["task_run_request"]["overrides"]["containerOverrides"][0]  # type: ignore[no-any-return]


def _leaks(text: str) -> bool:
    return "quoted" in text or "it's" in text or "it\\u0027s" in text


def test_json_secret_in_kubernetes_env_renders_as_json_and_is_masked(registry: Registry) -> None:
    Secret(value=NASTY).save("db-json", registry=registry)
    job = _pool(registry, "k8s", "kubernetes").render_job(
        {"env": {"DB": "{{ blocks.secret.db-json }}"}})
    env = _k8s_container(job.configuration)["env"]
    assert env == [{"name": "DB", "value": NASTY_TEXT}]
    assert json.loads(env[0]["value"]) == NASTY
    masked = job.masked()
    assert _k8s_container(masked)["env"] == [{"name": "DB", "value": MASK}]
    assert not _leaks(json.dumps(masked)) and not _leaks(repr(job))
    assert job.has_secrets


def test_json_secret_in_ecs_environment_renders_as_json_and_is_masked(registry: Registry) -> None:
    Secret(value=NASTY).save("db-json", registry=registry)
    job = _pool(registry, "ecs", "ecs").render_job({"env": {"DB": "{{ blocks.secret.db-json }}"}})
    environment = _ecs_container(job.configuration)["environment"]
    assert environment == [{"name": "DB", "value": NASTY_TEXT}]
    assert _ecs_container(job.masked())["environment"] == [{"name": "DB", "value": MASK}]
    assert not _leaks(json.dumps(job.masked()))


def test_secret_with_both_quote_kinds_inside_text_is_masked(registry: Registry) -> None:
    Secret(value="a'b\"c\\d").save("quotes", registry=registry)
    Secret(value=NASTY).save("db-json", registry=registry)
    job = _pool(registry, "proc", "process").render_job(
        {"command": "run --token={{ blocks.secret.quotes }} --cfg '{{ blocks.secret.db-json }}'",
         "env": {"CFG": "prefix {{ blocks.secret.db-json }} suffix"}})
    assert job.configuration["command"] == f"run --token=a'b\"c\\d --cfg '{NASTY_TEXT}'"
    masked = job.masked()
    assert masked["command"] == f"run --token={MASK} --cfg '{MASK}'"
    assert masked["env"]["CFG"] == f"prefix {MASK} suffix"
    assert "a'b" not in json.dumps(masked) and not _leaks(json.dumps(masked))


def test_field_of_a_json_secret_is_masked(registry: Registry) -> None:
    Secret(value=NASTY).save("db-json", registry=registry)
    job = _pool(registry, "proc", "process").render_job(
        {"env": {"PW": "{{ blocks.secret.db-json.password }}"}})
    assert job.configuration["env"]["PW"] == NASTY["password"]
    assert job.masked()["env"]["PW"] == MASK


def test_configuration_that_contains_a_secret_text_is_not_masked(registry: Registry) -> None:
    """A secret "app" must not turn the image acme/webapp:1.0 into acme/web********:1.0."""
    Secret(value="app").save("db-user", registry=registry)
    job = _pool(registry, "k8s", "kubernetes").render_job(
        {"image": "acme/webapp:1.0", "env": {"DB_USER": "{{ blocks.secret.db-user }}",
                                             "MODE": "app"}})
    masked = _k8s_container(job.masked())
    assert masked["image"] == "acme/webapp:1.0"
    assert masked["env"] == [{"name": "DB_USER", "value": MASK}, {"name": "MODE", "value": "app"}]
    assert _k8s_container(job.configuration)["env"][0] == {"name": "DB_USER", "value": "app"}


def test_job_without_secrets_reports_none(registry: Registry) -> None:
    job = _pool(registry, "k8s", "kubernetes").render_job({"image": "acme/webapp:1.0"})
    assert not job.has_secrets and job.masked() == job.configuration


def test_unbalanced_quote_in_command_names_the_field(registry: Registry) -> None:
    Secret(value="s3cr3t-'quote").save("tok", registry=registry)
    pool = _pool(registry, "k8s", "kubernetes")
    with pytest.raises(ValidationError) as caught:
        pool.render_job({"command": "echo 'unterminated"})
    assert caught.value.errors == [(
        "job_manifest.spec.template.spec.containers[0].args",
        "cannot split the command into arguments: No closing quotation",
    )]
    with pytest.raises(ValidationError) as caught:
        pool.render_job({"command": "echo {{ blocks.secret.tok }}"})
    assert "s3cr3t" not in str(caught.value) and "No closing quotation" in str(caught.value)


def test_cli_render_with_an_unbalanced_quote_is_a_one_line_error(tmp_path: Path) -> None:
    env = {"BLOCKS_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    blocks = [sys.executable, "-m", "blocks.cli"]
    subprocess.run([*blocks, "pools", "create", "k8s", "--type", "kubernetes"], env=env,
                   check=True, capture_output=True, timeout=60)
    result = subprocess.run([*blocks, "pools", "render", "k8s", "--var", "command=echo 'oops"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "internal error" not in result.stderr
    assert "containers[0].args: cannot split the command into arguments" in result.stderr


def test_in_process_cli_render_with_an_unbalanced_quote_is_a_one_line_error(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from blocks.cli.main import main

    assert main(["pools", "create", "k8s", "--type", "kubernetes"]) == 0
    capsys.readouterr()
    assert main(["pools", "render", "k8s", "--var", "command=echo \"oops"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert "containers[0].args: cannot split the command into arguments" in err
