"""Rendering: defaults, then values (env merged), block placeholders, per-type worker shapes.

Blocks come from an injected resolver here; tests/pools/test_models.py resolves them through a
real registry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from blocks import Registry
from blocks.codec import MASK
from blocks.errors import BlockNotFound, ValidationError
from blocks.pools import ResolvedBlock, default_base_job_template, render_job
from blocks.pools.resolve import registry_resolver

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

SECRET = "hunter2-db-password"
BLOCKS: dict[str, ResolvedBlock] = {
    "secret/db-password": ResolvedBlock(SECRET, MASK),
    "aws-credentials/prod": ResolvedBlock(
        {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI-secret",
         "region_name": "eu-west-1"},
        {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": MASK,
         "region_name": "eu-west-1"},
    ),
}


def resolver(ref: str) -> ResolvedBlock:
    if ref not in BLOCKS:
        raise BlockNotFound(f"no block {ref}")
    return BLOCKS[ref]


def render(pool_type: str, values: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    job = render_job(default_base_job_template(pool_type), values, pool_type=pool_type,  # type: ignore[arg-type]
                     resolver=resolver, **kw)
    return job.configuration


def _container(config: dict[str, Any]) -> dict[str, Any]:
    return config["job_manifest"]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


# -- each of the four types ----------------------------------------------------------------


def test_render_process_job() -> None:
    config = render("process", {"command": "python -m flows.etl", "working_dir": "/srv",
                                "env": {"DB_PASSWORD": "{{ blocks.secret.db-password }}"}})
    assert config == {
        "env": {"DB_PASSWORD": SECRET},
        "labels": {},
        "command": "python -m flows.etl",
        "stream_output": True,
        "working_dir": "/srv",
    }


def test_render_docker_job() -> None:
    config = render("docker", {"image": "repo/app:1.2", "volumes": ["/data:/data:ro"],
                               "image_pull_policy": "Always", "auto_remove": True,
                               "env": {"MODE": "prod"}})
    assert config["image"] == "repo/app:1.2"
    assert config["volumes"] == ["/data:/data:ro"]
    assert config["image_pull_policy"] == "Always"
    assert config["auto_remove"] is True
    assert config["env"] == {"MODE": "prod"}
    assert "mem_limit" not in config  # unset variables are left out


def test_render_ecs_job() -> None:
    config = render("ecs", {
        "image": "123.dkr.ecr.eu-west-1.amazonaws.com/app:1", "cluster": "prod", "cpu": 512,
        "memory": 1024, "subnets": ["subnet-1"], "security_groups": ["sg-1"],
        "command": "python -m flows.etl --day '2026-11-21'",
        "env": {"DB_PASSWORD": "{{ blocks.secret.db-password }}"},
        "aws_credentials": "{{ blocks.aws-credentials.prod }}",
        "labels": {"team": "data"},
    })
    task_def = config["task_definition"]
    assert task_def["cpu"] == "512" and task_def["memory"] == "1024"
    assert task_def["containerDefinitions"] == [
        {"name": "flow-run", "image": "123.dkr.ecr.eu-west-1.amazonaws.com/app:1"}
    ]
    request = config["task_run_request"]
    assert request["cluster"] == "prod"
    assert request["launchType"] == "FARGATE"
    assert "taskDefinition" not in request
    assert request["tags"] == [{"key": "team", "value": "data"}]
    override = request["overrides"]["containerOverrides"][0]
    assert override["command"] == ["python", "-m", "flows.etl", "--day", "2026-11-21"]
    assert override["environment"] == [{"name": "DB_PASSWORD", "value": SECRET}]
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}
    }
    assert config["aws_credentials"]["region_name"] == "eu-west-1"


def test_render_ecs_job_without_subnets_leaves_network_to_the_worker() -> None:
    request = render("ecs")["task_run_request"]
    assert "networkConfiguration" not in request


def test_render_kubernetes_job() -> None:
    config = render("kubernetes", {
        "image": "repo/app:1.2", "namespace": "flows", "service_account_name": "runner",
        "command": "python -m flows.etl", "cpu_request": "500m", "memory_limit": "2Gi",
        "finished_job_ttl": 600,
        "env": {"DB_PASSWORD": "{{ blocks.secret.db-password }}"},
    }, pool="k8s", queue="critical")
    manifest = config["job_manifest"]
    assert manifest["kind"] == "Job" and manifest["apiVersion"] == "batch/v1"
    assert manifest["metadata"] == {
        "generateName": "flow-run-",
        "namespace": "flows",
        "labels": {"blocks.io/work-pool": "k8s", "blocks.io/work-queue": "critical"},
    }
    assert manifest["spec"]["ttlSecondsAfterFinished"] == 600
    pod = manifest["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "runner"
    container = _container(config)
    assert container["image"] == "repo/app:1.2"
    assert container["args"] == ["python", "-m", "flows.etl"]
    assert container["env"] == [{"name": "DB_PASSWORD", "value": SECRET}]
    assert container["resources"] == {"requests": {"cpu": "500m"}, "limits": {"memory": "2Gi"}}


def test_render_kubernetes_job_without_resources_has_no_resources_key() -> None:
    container = _container(render("kubernetes"))
    assert "resources" not in container
    assert "args" not in container
    assert "serviceAccountName" not in render("kubernetes")["job_manifest"]["spec"]["template"][
        "spec"]


# -- values ----------------------------------------------------------------------------------


def _with_env_default(pool_type: str, env: dict[str, str]) -> dict[str, Any]:
    template = default_base_job_template(pool_type)  # type: ignore[arg-type]
    template["variables"]["properties"]["env"]["default"] = env
    return template


def test_env_is_merged_key_by_key_over_the_defaults() -> None:
    template = _with_env_default("process", {"A": "1", "B": "2"})
    job = render_job(template, {"env": {"B": "3", "C": "4"}}, pool_type="process")
    assert job.configuration["env"] == {"A": "1", "B": "3", "C": "4"}


def test_env_null_removes_an_inherited_variable_from_a_kubernetes_container() -> None:
    template = _with_env_default("kubernetes", {"A": "1", "B": "2"})
    job = render_job(template, {"env": {"B": None}}, pool_type="kubernetes")
    assert _container(job.configuration)["env"] == [{"name": "A", "value": "1"}]


def test_other_variables_replace_their_defaults() -> None:
    template = default_base_job_template("docker")
    template["variables"]["properties"]["volumes"]["default"] = ["/a:/a"]
    job = render_job(template, {"volumes": ["/b:/b"]}, pool_type="docker")
    assert job.configuration["volumes"] == ["/b:/b"]


def test_given_values_win_over_defaults() -> None:
    assert render("kubernetes", {"namespace": "other"})["namespace"] == "other"
    assert render("kubernetes")["namespace"] == "default"


def test_unknown_variable_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as caught:
        render("docker", {"imag": "repo/app"}, ref="work-pool/d")
    assert caught.value.errors[0][0] == "job_variables.imag"
    assert "not a job variable of this pool" in caught.value.errors[0][1]


def test_bad_value_is_refused_naming_the_variable_not_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        render("kubernetes", {"finished_job_ttl": "hunter2-not-a-number", "cpu_request": "x1"})
    errors = dict(caught.value.errors)
    assert set(errors) == {"job_variables.finished_job_ttl", "job_variables.cpu_request"}
    assert "hunter2-not-a-number" not in str(caught.value)


def test_bad_nested_value_names_the_path_inside_the_variable() -> None:
    with pytest.raises(ValidationError) as caught:
        render("process", {"env": {"PORT": 8080}})
    assert caught.value.errors == [("job_variables.env.PORT", "must be of type string or null")]


def test_required_variable_without_value_is_refused() -> None:
    template = default_base_job_template("docker")
    template["variables"]["required"] = ["image"]
    del template["variables"]["properties"]["image"]["default"]
    with pytest.raises(ValidationError, match="'image' is a required property"):
        render_job(template, {}, pool_type="docker")


def test_placeholder_inside_a_longer_string_becomes_text() -> None:
    template = default_base_job_template("process")
    template["job_configuration"]["name"] = "run-{{ name }}-{{ stream_output }}"
    job = render_job(template, {"name": "etl"}, pool_type="process")
    assert job.configuration["name"] == "run-etl-true"


def test_whole_placeholder_keeps_the_value_type() -> None:
    config = render("ecs", {"task_start_timeout_seconds": 60})
    assert config["task_start_timeout_seconds"] == 60
    assert config["stream_output"] is False


# -- blocks ------------------------------------------------------------------------------------


def test_block_placeholder_in_the_template_is_resolved() -> None:
    template = default_base_job_template("process")
    template["job_configuration"]["env"] = {
        "DB_URL": "postgresql://app:{{ blocks.secret.db-password }}@db/app"
    }
    job = render_job(template, {}, pool_type="process", resolver=resolver)
    assert job.configuration["env"] == {"DB_URL": f"postgresql://app:{SECRET}@db/app"}


def test_block_field_path_picks_one_field() -> None:
    config = render("process", {"env": {"REGION": "{{ blocks.aws-credentials.prod.region_name }}"}})
    assert config["env"] == {"REGION": "eu-west-1"}


def test_block_field_path_to_a_missing_field_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        render("process", {"env": {"X": "{{ blocks.aws-credentials.prod.nope }}"}})
    assert caught.value.errors == [
        ("job_variables.env.X", "block aws-credentials/prod has no field nope")
    ]


def test_missing_block_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as caught:
        render("process", {"env": {"TOKEN": "{{ blocks.secret.missing }}"}})
    assert caught.value.errors[0][0] == "job_variables.env.TOKEN"
    assert "secret/missing, which does not exist" in caught.value.errors[0][1]


def test_block_placeholder_without_a_resolver_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a registry"):
        render_job(default_base_job_template("process"),
                   {"env": {"X": "{{ blocks.secret.db-password }}"}}, pool_type="process")


def test_resolved_value_is_not_scanned_for_placeholders_again() -> None:
    BLOCKS["secret/braces"] = ResolvedBlock("{{ image }}", MASK)
    try:
        config = render("docker", {"env": {"X": "{{ blocks.secret.braces }}"}})
    finally:
        del BLOCKS["secret/braces"]
    assert config["env"] == {"X": "{{ image }}"}


# -- secrets in output -------------------------------------------------------------------------


def test_rendered_job_masks_secrets_in_repr_and_masked_but_not_configuration() -> None:
    job = render_job(default_base_job_template("kubernetes"),
                     {"env": {"DB_URL": "postgresql://app:{{ blocks.secret.db-password }}@db"}},
                     pool_type="kubernetes", resolver=resolver)
    assert SECRET in str(job.configuration)
    assert SECRET not in repr(job)
    assert SECRET not in str(job.masked())
    assert _container(job.masked())["env"] == [
        {"name": "DB_URL", "value": "postgresql://app:********@db"}
    ]


def test_non_string_secret_values_are_masked() -> None:
    BLOCKS["secret/pin"] = ResolvedBlock(123456, MASK)
    try:
        job = render_job(default_base_job_template("process"),
                         {"env": {"PIN": "{{ blocks.secret.pin }}", "OK": "123456"}},
                         pool_type="process", resolver=resolver)
    finally:
        del BLOCKS["secret/pin"]
    assert job.configuration["env"] == {"PIN": 123456, "OK": "123456"}
    assert job.masked()["env"] == {"PIN": MASK, "OK": "123456"}


def test_secret_split_into_command_arguments_is_masked() -> None:
    BLOCKS["secret/phrase"] = ResolvedBlock("correct horse battery", MASK)
    try:
        job = render_job(default_base_job_template("kubernetes"),
                         {"command": "login --phrase '{{ blocks.secret.phrase }}'"},
                         pool_type="kubernetes", resolver=resolver)
    finally:
        del BLOCKS["secret/phrase"]
    assert _container(job.configuration)["args"] == ["login", "--phrase", "correct horse battery"]
    masked = _container(job.masked())["args"]
    assert not {"correct", "horse", "battery"} & set(" ".join(masked).split())


def test_secret_embedded_as_json_text_is_masked() -> None:
    BLOCKS["secret/sa-key"] = ResolvedBlock({"key": 'line1\nquote"d'}, MASK)
    try:
        job = render_job(default_base_job_template("process"),
                         {"command": "run --key '{{ blocks.secret.sa-key }}'"},
                         pool_type="process", resolver=resolver)
    finally:
        del BLOCKS["secret/sa-key"]
    assert '\\n' in job.configuration["command"]
    assert "line1" not in job.masked()["command"]


def test_block_placeholders_use_published_field_names(registry: Registry) -> None:
    """Aliased fields resolve under the name the schema, CLI and Terraform publish."""
    from blocks import DatabaseCredentials

    DatabaseCredentials(url="postgresql+psycopg://etl:pw-Zq5@db/app").save(
        "by-url", registry=registry)
    template = {
        "job_configuration": {"env": {"DB": "{{ blocks.database-credentials.by-url.url }}"}},
        "variables": {"type": "object", "properties": {}},
    }
    job = render_job(template, {}, pool_type="process",
                     resolver=registry_resolver(registry), ref="work-pool/p")
    assert job.configuration["env"]["DB"] == "postgresql+psycopg://etl:pw-Zq5@db/app"
    assert "pw-Zq5" not in json.dumps(job.masked())
