"""Every validation rule of base job templates, each error with its JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.errors import ValidationError
from blocks.pools import default_base_job_template, validate_base_job_template
from blocks.pools.validation import template_errors


def _k8s() -> dict[str, Any]:
    return default_base_job_template("kubernetes")


def _paths(errors: list[tuple[str, str]]) -> list[str]:
    return [path for path, _ in errors]


def test_template_must_be_an_object() -> None:
    assert _paths(template_errors(["not", "a", "template"])) == [""]


def test_template_keys_other_than_job_configuration_and_variables_are_refused() -> None:
    template = {**_k8s(), "extra": 1}
    errors = template_errors(template)
    assert _paths(errors) == ["extra"]
    assert "job_configuration and variables" in errors[0][1]


def test_missing_job_configuration_and_variables_are_named() -> None:
    assert _paths(template_errors({})) == ["job_configuration", "variables"]


def test_undeclared_placeholder_is_refused_with_its_json_path() -> None:
    template = _k8s()
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"][
        "containers"][0]
    container["workingDir"] = "/srv/{{ workdir }}"
    errors = template_errors(template)
    assert _paths(errors) == [
        "job_configuration.job_manifest.spec.template.spec.containers[0].workingDir"
    ]
    assert "{{ workdir }} is not declared in variables.properties" in errors[0][1]


def test_validate_raises_validation_error_naming_the_pool_and_path() -> None:
    template = _k8s()
    template["job_configuration"]["namespace"] = "{{ nmespace }}"
    with pytest.raises(ValidationError) as caught:
        validate_base_job_template(template, ref="work-pool/k8s")
    assert caught.value.ref == "work-pool/k8s"
    assert caught.value.errors[0][0] == "job_configuration.namespace"
    assert "work-pool/k8s" in str(caught.value)


@pytest.mark.parametrize("text", ["{{ foo.bar }}", "{{ blocks.secret }}", "{{ 1abc }}",
                                  "{{ blocks.Secret.x }}", "{{ }}"])
def test_malformed_placeholder_is_refused(text: str) -> None:
    template = _k8s()
    template["job_configuration"]["extra"] = text
    errors = template_errors(template)
    assert _paths(errors) == ["job_configuration.extra"]
    assert "neither a variable name nor blocks.<slug>.<name>" in errors[0][1]


def test_variables_must_be_a_valid_json_schema() -> None:
    template = _k8s()
    template["variables"]["properties"]["image"]["type"] = "strang"
    errors = template_errors(template)
    assert _paths(errors) == ["variables.properties.image.type"]
    assert "not a valid JSON Schema" in errors[0][1]


def test_variables_must_describe_an_object() -> None:
    template = _k8s()
    template["variables"]["type"] = "array"
    assert "variables.type" in _paths(template_errors(template))


def test_variables_must_be_an_object() -> None:
    template = _k8s()
    template["variables"] = "image: str"
    assert _paths(template_errors(template)) == ["variables"]


def test_variable_names_must_be_identifiers() -> None:
    template = _k8s()
    template["variables"]["properties"]["bad-name"] = {"type": "string"}
    errors = template_errors(template)
    assert _paths(errors) == ["variables.properties.bad-name"]
    assert "identifiers" in errors[0][1]


def test_default_must_validate_against_its_schema() -> None:
    template = _k8s()
    template["variables"]["properties"]["image"]["default"] = 3
    template["variables"]["properties"]["image_pull_policy"]["default"] = "Sometimes"
    template["variables"]["properties"]["cpu_limit"]["default"] = "two"
    errors = dict(template_errors(template))
    assert errors["variables.properties.image.default"] == "must be of type string"
    assert errors["variables.properties.image_pull_policy.default"] == (
        'must be one of ["IfNotPresent", "Always", "Never"]'
    )
    assert "must match the pattern" in errors["variables.properties.cpu_limit.default"]


def test_nested_default_error_has_the_path_inside_the_default() -> None:
    template = _k8s()
    template["variables"]["properties"]["env"]["default"] = {"MODE": 5}
    assert _paths(template_errors(template)) == ["variables.properties.env.default.MODE"]


def test_default_error_does_not_repeat_the_value() -> None:
    template = _k8s()
    template["variables"]["properties"]["backoff_limit"]["default"] = "hunter2-secret"
    errors = template_errors(template)
    assert errors and all("hunter2-secret" not in message for _, message in errors)


def test_required_variable_without_default_is_not_a_template_error() -> None:
    template = _k8s()
    template["variables"]["required"] = ["image", "service_account_name"]
    del template["variables"]["properties"]["service_account_name"]["default"]
    assert template_errors(template) == []


def test_default_cannot_refer_to_another_variable() -> None:
    template = _k8s()
    template["variables"]["properties"]["namespace"]["default"] = "{{ name }}-ns"
    errors = template_errors(template)
    assert _paths(errors) == ["variables.properties.namespace.default"]
    assert "only {{ blocks.<slug>.<name> }} placeholders" in errors[0][1]


def test_default_may_hold_a_block_placeholder() -> None:
    template = _k8s()
    template["variables"]["properties"]["env"]["default"] = {
        "DB_PASSWORD": "{{ blocks.secret.db-password }}"
    }
    assert template_errors(template) == []


def test_block_placeholder_naming_a_missing_block_is_refused() -> None:
    template = _k8s()
    template["variables"]["properties"]["env"]["default"] = {
        "DB_PASSWORD": "{{ blocks.secret.db-password }}"
    }
    template["job_configuration"]["cluster_config"] = "{{ blocks.kubernetes-cluster.prod }}"
    existing = {"secret/db-password"}
    errors = template_errors(template, block_exists=existing.__contains__)
    assert _paths(errors) == ["job_configuration.cluster_config"]
    assert "names block kubernetes-cluster/prod, which does not exist" in errors[0][1]


def test_block_placeholder_in_a_default_naming_a_missing_block_is_refused() -> None:
    template = _k8s()
    template["variables"]["properties"]["env"]["default"] = {
        "DB_PASSWORD": "{{ blocks.secret.db-password }}"
    }
    errors = template_errors(template, block_exists=lambda ref: False)
    assert _paths(errors) == ["variables.properties.env.default.DB_PASSWORD"]


def test_every_problem_is_reported_at_once() -> None:
    template = _k8s()
    template["variables"]["properties"]["image"]["default"] = 3
    template["job_configuration"]["a"] = "{{ missing }}"
    template["job_configuration"]["b"] = "{{ blocks.secret.nope }}"
    errors = template_errors(template, block_exists=lambda ref: False)
    assert sorted(_paths(errors)) == [
        "job_configuration.a", "job_configuration.b", "variables.properties.image.default",
    ]
