"""Validation of base job templates and job-variable values. No I/O of its own.

Rules for a base job template (each problem is reported with its dot path):

1. It is ``{"job_configuration": {...}, "variables": {...}}`` and nothing else.
2. ``variables`` is a valid JSON Schema (Draft 2020-12) of an object whose ``properties`` are
   named like identifiers.
3. Every ``default`` in ``variables.properties`` validates against that property's schema, and
   refers to no other variable (only ``{{ blocks.<slug>.<name> }}`` placeholders may appear).
4. Every ``{{ placeholder }}`` in ``job_configuration`` is declared in ``variables.properties``
   or is a well-formed ``{{ blocks.<slug>.<name> }}``. Prefect's own ``{{ prefect.blocks.… }}`` /
   ``{{ prefect.variables.… }}`` are accepted in variable defaults (passed through for a Prefect
   worker, which resolves them there) and refused in ``job_configuration``, as Prefect does.
5. Every block placeholder names a block that exists (when a lookup is given).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from blocks.errors import ValidationError
from blocks.pools.placeholders import VARIABLE_RE, join_path, walk

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaViolation
    from jsonschema.protocols import Validator

BlockExists = Callable[[str], bool]
"""Answers whether the block ``slug/name`` exists."""

TEMPLATE_KEYS = ("job_configuration", "variables")
_COMPARISONS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}


def validate_base_job_template(
    template: Any, *, ref: str = "", block_exists: BlockExists | None = None
) -> None:
    """Check a base job template against every rule of this module.

    Args:
        template: the ``{"job_configuration": ..., "variables": ...}`` document.
        ref: what to name in the error, e.g. ``work-pool/k8s-prod``.
        block_exists: lookup for rule 5; block placeholders are not looked up when ``None``.

    Raises:
        ValidationError: one ``(path, message)`` per problem, e.g.
            ``("job_configuration.job_manifest.metadata.namespace",
            "placeholder {{ nmespace }} is not declared in variables.properties; ...")``.
    """
    errors = template_errors(template, block_exists=block_exists)
    if errors:
        raise ValidationError(ref, errors)


def template_errors(
    template: Any, *, block_exists: BlockExists | None = None
) -> list[tuple[str, str]]:
    """Every problem of a base job template as ``(dot path, message)``; empty when valid."""
    if not isinstance(template, Mapping):
        return [("", "a base job template must be an object with job_configuration and variables")]
    errors = [
        (str(key), f"unknown key; a base job template has only {' and '.join(TEMPLATE_KEYS)}")
        for key in template
        if key not in TEMPLATE_KEYS
    ]
    job_configuration = template.get("job_configuration")
    variables = template.get("variables")
    if not isinstance(job_configuration, Mapping):
        errors.append(("job_configuration", "must be an object (the job a worker runs)"))
    if not isinstance(variables, Mapping):
        errors.append(("variables", "must be a JSON Schema object describing the job variables"))
        return errors
    schema_errors = _schema_errors(variables)
    errors += schema_errors
    properties = variables.get("properties", {})
    if not schema_errors:
        errors += _default_errors(variables)
    if isinstance(job_configuration, Mapping):
        errors += _placeholder_errors(job_configuration, properties)
    if block_exists is not None:
        errors += _missing_block_errors(template, block_exists)
    return errors


def _validator_class(variables: Mapping[str, Any]) -> type[Validator]:
    # jsonschema is imported on first use: every CLI command imports this module.
    import jsonschema

    return jsonschema.validators.validator_for(variables, default=jsonschema.Draft202012Validator)


def schema_validator(variables: Mapping[str, Any]) -> Validator:
    """A validator for job-variable values under the ``variables`` schema."""
    return _validator_class(variables)(variables)


def value_errors(
    variables: Mapping[str, Any], values: Mapping[str, Any], prefix: str = ""
) -> list[tuple[str, str]]:
    """Problems of job-variable ``values`` under the ``variables`` schema, paths prefixed.

    Messages describe the rule broken, never the offending value (it may be a secret).
    """
    validator = schema_validator(variables)
    found = sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path])
    return [(_path(prefix, error.absolute_path), describe(error)) for error in found]


def describe(error: SchemaViolation) -> str:
    """A message for a JSON Schema violation that does not repeat the instance."""
    rule, expected = error.validator, error.validator_value
    if rule == "type":
        return f"must be of type {' or '.join(str(k) for k in _as_list(expected))}"
    if rule in ("enum", "const"):
        options = expected if rule == "enum" else [expected]
        return f"must be one of {json.dumps(options)}"
    if rule in ("required", "additionalProperties", "unevaluatedProperties"):
        return str(error.message)
    if rule in ("anyOf", "oneOf") and error.context:
        direct = [e for e in error.context if not e.relative_path]
        kinds = [k for e in direct if e.validator == "type" for k in _as_list(e.validator_value)]
        others = [describe(e) for e in direct if e.validator != "type"]
        if kinds and not others:
            return f"must be of type {' or '.join(_unique(str(k) for k in kinds))}"
        if kinds:
            others.append(f"must be of type {' or '.join(_unique(str(k) for k in kinds))}")
        branches = _unique(others)
        return " or ".join(branches) if branches else f"must match {rule} of the schema"
    if rule == "pattern":
        return f"must match the pattern {expected}"
    if rule in _COMPARISONS:
        return f"must be {_COMPARISONS[str(rule)]} {expected}"
    return f"breaks the '{rule}' rule of the schema ({json.dumps(expected, default=str)})"


def _schema_errors(variables: Mapping[str, Any]) -> list[tuple[str, str]]:
    from jsonschema.exceptions import SchemaError

    try:
        _validator_class(variables).check_schema(dict(variables))
    except SchemaError as exc:
        return [
            (_path("variables", exc.absolute_path), f"not a valid JSON Schema: {exc.message}")
        ]
    errors: list[tuple[str, str]] = []
    if variables.get("type", "object") != "object":
        errors.append(("variables.type", "must be 'object': job variables are named values"))
    properties = variables.get("properties", {})
    if not isinstance(properties, Mapping):
        return [*errors, ("variables.properties", "must be an object")]
    errors += [
        (
            join_path("variables.properties", name),
            "variable names must be identifiers (letters, digits, underscores; not "
            "starting with a digit) so that {{ name }} can refer to them",
        )
        for name in properties
        if not VARIABLE_RE.match(name)
    ]
    return errors


def _default_errors(variables: Mapping[str, Any]) -> list[tuple[str, str]]:
    properties = variables.get("properties", {})
    defaults = {
        name: prop["default"]
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and "default" in prop
    }
    schema = {k: copy.deepcopy(v) for k, v in variables.items() if k != "required"}
    errors: list[tuple[str, str]] = []
    for name, default in defaults.items():
        for where, placeholder in walk(default):
            if placeholder.kind not in ("block", "prefect"):
                errors.append(
                    (
                        _default_path(name, where),
                        f"a default cannot contain {placeholder.text}: only "
                        "{{ blocks.<slug>.<name> }} placeholders are resolved in values "
                        "(and Prefect's {{ prefect.blocks.… }} / {{ prefect.variables.… }} are "
                        "left for its worker)",
                    )
                )
    for error in schema_validator(schema).iter_errors(defaults):
        parts = list(error.absolute_path)
        if not parts:
            errors.append(("variables", describe(error)))
            continue
        errors.append((_path(_default_path(str(parts[0]), ""), parts[1:]), describe(error)))
    return errors


def _placeholder_errors(
    job_configuration: Mapping[str, Any], properties: Mapping[str, Any]
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for where, placeholder in walk(dict(job_configuration), "job_configuration"):
        if placeholder.kind == "invalid":
            errors.append(
                (
                    where,
                    f"placeholder {placeholder.text} is neither a variable name nor "
                    "blocks.<slug>.<name>[.<field>]",
                )
            )
        elif placeholder.kind == "prefect":
            errors.append(
                (
                    where,
                    f"{placeholder.text} is resolved by Prefect's worker in job-variable values "
                    "only (the Prefect server refuses it in job_configuration): put it in a "
                    "variable's default, e.g. variables.properties.env.default",
                )
            )
        elif placeholder.kind == "variable" and placeholder.expr not in properties:
            errors.append(
                (
                    where,
                    f"placeholder {placeholder.text} is not declared in variables.properties; "
                    f"declare '{placeholder.expr}' there or fix the name",
                )
            )
    return errors


def _missing_block_errors(
    template: Mapping[str, Any], block_exists: BlockExists
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    checked: dict[str, bool] = {}
    for where, placeholder in walk(dict(template)):
        if placeholder.kind != "block":
            continue
        ref = placeholder.block_ref
        if ref not in checked:
            checked[ref] = block_exists(ref)
        if not checked[ref]:
            errors.append(
                (where, f"placeholder {placeholder.text} names block {ref}, which does not exist; "
                        "save that block first or fix the reference")
            )
    return errors


def _default_path(name: str, rest: str) -> str:
    base = join_path(join_path("variables.properties", name), "default")
    return f"{base}{rest if rest.startswith('[') else '.' + rest}" if rest else base


def _path(prefix: str, parts: Iterable[str | int]) -> str:
    path = prefix
    for part in parts:
        path = join_path(path, part)
    return path


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
