"""Default base job templates, generated from the typed job-variable models."""

from __future__ import annotations

import jsonschema
import pytest

from blocks.pools import JOB_VARIABLES, POOL_TYPES, default_base_job_template
from blocks.pools.placeholders import walk
from blocks.pools.validation import template_errors


@pytest.mark.parametrize("pool_type", POOL_TYPES)
def test_default_template_of_every_type_passes_validation(pool_type: str) -> None:
    assert template_errors(default_base_job_template(pool_type)) == []


@pytest.mark.parametrize("pool_type", POOL_TYPES)
def test_default_variables_are_the_typed_models_json_schema(pool_type: str) -> None:
    variables = default_base_job_template(pool_type)["variables"]
    model = JOB_VARIABLES[pool_type]  # type: ignore[index]
    assert set(variables["properties"]) == set(model.model_fields)
    jsonschema.Draft202012Validator.check_schema(variables)
    # The defaults are exactly the model's defaults.
    defaults = {k: p["default"] for k, p in variables["properties"].items() if "default" in p}
    assert model(**defaults).model_dump() == model().model_dump()


@pytest.mark.parametrize("pool_type", POOL_TYPES)
def test_every_variable_of_a_default_template_is_used_by_its_job_configuration(
    pool_type: str,
) -> None:
    template = default_base_job_template(pool_type)
    used = {p.expr for _, p in walk(template["job_configuration"]) if p.kind == "variable"}
    assert used == set(template["variables"]["properties"])


def test_default_template_is_a_fresh_copy_each_time() -> None:
    first = default_base_job_template("docker")
    first["variables"]["properties"]["image"]["default"] = "changed"
    assert default_base_job_template("docker")["variables"]["properties"]["image"]["default"] != (
        "changed"
    )


def test_default_template_of_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="process, docker, ecs, kubernetes"):
        default_base_job_template("lambda")  # type: ignore[arg-type]


def test_job_variable_models_hold_the_fields_of_each_type() -> None:
    fields = {t: set(JOB_VARIABLES[t].model_fields) for t in POOL_TYPES}
    common = {"name", "env", "labels", "command"}
    assert fields["process"] >= common | {"stream_output", "working_dir"}
    assert fields["docker"] >= common | {
        "image", "image_pull_policy", "volumes", "networks", "auto_remove", "privileged",
    }
    assert fields["ecs"] >= common | {
        "cluster", "cpu", "memory", "task_definition_arn", "subnets", "security_groups",
        "execution_role_arn", "task_role_arn", "launch_type",
    }
    assert fields["kubernetes"] >= common | {
        "image", "namespace", "service_account_name", "cpu_request", "memory_limit",
        "image_pull_policy", "finished_job_ttl",
    }
    assert "job_manifest" in default_base_job_template("kubernetes")["job_configuration"]


def test_kubernetes_job_fields_sit_on_the_job_spec_not_the_pod_spec() -> None:
    from blocks.pools import default_base_job_template

    manifest = default_base_job_template("kubernetes")["job_configuration"]["job_manifest"]
    assert manifest["spec"]["parallelism"] == 1 and manifest["spec"]["completions"] == 1
    pod_spec = manifest["spec"]["template"]["spec"]
    assert "parallelism" not in pod_spec and "completions" not in pod_spec
