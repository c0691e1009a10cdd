"""Write-only twins of the secret fields of typed resources (Terraform >= 1.11).

For every secret field ``<f>`` a typed resource also has

* ``<f>_wo``: the same value, write-only: Terraform sends it to the provider in configuration
  only; plan and state hold null (see :mod:`blocks_terraform.protocol`);
* ``<f>_wo_version``: a number stored in state; Terraform cannot compare a write-only value
  with anything, so changing the version is how a new ``<f>_wo`` value is written (as
  terraform-provider-prefect's ``data_wo``/``data_wo_version``).

State also holds ``write_only_fingerprint``: the keyed fingerprint (HMAC-SHA256 under
``secret/terraform-fingerprint-key``, as for generated secrets) of the values written through
``_wo`` attributes. A refresh recomputes it from the registry; a value changed outside
Terraform makes it ``changed-outside-terraform``, the plan shows an update, and apply writes the
configured values back.

A field is *managed write-only* when state (or the plan) has its ``_wo_version`` set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.protocol import WRITE_ONLY_SINCE, WriteOnlyAttribute

FINGERPRINT = "write_only_fingerprint"
DRIFTED = "changed-outside-terraform"


def secret_fields(fields: Iterable[dict[str, Any]]) -> list[str]:
    """Names of the secret fields, which get write-only twins."""
    return [spec["name"] for spec in fields if spec["sensitive"]]


def attributes(fields: Iterable[dict[str, Any]], tf_type: Any) -> list[Attribute]:
    """The write-only twins, their versions and the fingerprint (none without secret fields).

    Args:
        fields: the resource's field specs.
        tf_type: maps a field spec to its ``tf`` type.
    """
    out: list[Attribute] = []
    for spec in fields:
        if not spec["sensitive"]:
            continue
        name = spec["name"]
        out.append(WriteOnlyAttribute(
            f"{name}_wo", tf_type(spec),
            description=f"Write-only form of `{name}` (Terraform >= {WRITE_ONLY_SINCE}): the "
                        "value is stored in the registry and never in plan or state. Needs "
                        f"`{name}_wo_version`; conflicts with `{name}`. Optional.",
        ))
        out.append(Attribute(
            f"{name}_wo_version", types.Number(), optional=True,
            description=f"Version of `{name}_wo`: required with it; change it to write a new "
                        f"`{name}_wo` value (Terraform cannot see changes of write-only "
                        "values). Optional.",
        ))
    if out:
        out.append(Attribute(
            FINGERPRINT, types.String(), computed=True,
            description="Keyed fingerprint (`hmac-sha256:...`) of the values written through "
                        f"`*_wo` attributes; `{DRIFTED}` when one of them was changed outside "
                        "Terraform (apply writes the configured values back). Null when no "
                        "`*_wo` attribute is used.",
        ))
    return out


def validate(diags: Diagnostics, fields: Iterable[dict[str, Any]], config: dict[str, Any]) -> None:
    """``<f>`` and ``<f>_wo`` are exclusive; ``<f>_wo`` and ``<f>_wo_version`` go together."""
    for name in secret_fields(fields):
        plain, wo, version = (config.get(k) for k in (name, f"{name}_wo", f"{name}_wo_version"))
        if plain is not None and wo is not None:
            diags.add_error(f"Conflicting {name} and {name}_wo",
                            f"set {name} (held in state) or {name}_wo (write-only), not both",
                            path=[f"{name}_wo"])
        elif wo is not None and version is None:
            diags.add_error(f"Missing {name}_wo_version",
                            f"{name}_wo needs {name}_wo_version (any number, e.g. 1); change the "
                            f"version to write a new {name}_wo value",
                            path=[f"{name}_wo_version"])
        elif wo is None and version is not None:
            diags.add_error(f"{name}_wo_version without {name}_wo",
                            f"{name}_wo_version versions the value of {name}_wo; set {name}_wo "
                            "or remove the version",
                            path=[f"{name}_wo_version"])


def managed(fields: Iterable[dict[str, Any]], state: dict[str, Any] | None) -> list[str]:
    """The secret fields that ``state`` manages write-only."""
    if not state:
        return []
    return [n for n in secret_fields(fields) if state.get(f"{n}_wo_version") is not None]


def config_value(config: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A field's configured value: its own attribute, else its write-only twin."""
    value = config.get(spec["name"])
    if value is None and spec["sensitive"]:
        value = config.get(f"{spec['name']}_wo")
    return value


def plan(fields: Iterable[dict[str, Any]], prior: dict[str, Any] | None,
         planned: dict[str, Any]) -> None:
    """Plan ``version`` and the fingerprint: unknown when a write-only value is (re)written.

    A new ``_wo_version`` or a drifted fingerprint writes the configured values; any other
    write (``version`` already unknown) may too, so the fingerprint is unknown then as well.
    """
    fields = list(fields)
    names = secret_fields(fields)
    if not names:
        return
    versions = [f"{n}_wo_version" for n in names]
    if not managed(fields, planned):
        planned[FINGERPRINT] = None
        return
    if (prior is None or prior.get(FINGERPRINT) == DRIFTED
            or any(planned.get(v) != prior.get(v) for v in versions)):
        planned["version"] = Unknown
    planned[FINGERPRINT] = Unknown if planned.get("version") is Unknown else prior and prior.get(
        FINGERPRINT)


def finish(fields: Iterable[dict[str, Any]], state: dict[str, Any], fingerprint: Any,
           previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """State after a save or a refresh: managed fields null, the fingerprint set.

    Args:
        fields: the resource's field specs.
        state: built from the stored block, so managed fields hold the stored values.
        fingerprint: ``Runtime.fingerprint``.
        previous: on refresh, the state before it; a fingerprint that no longer matches
            becomes :data:`DRIFTED`.
    """
    fields = list(fields)
    if not secret_fields(fields):
        return state
    names = managed(fields, state)
    if not names:
        return {**state, FINGERPRINT: None}
    current = fingerprint({n: state.get(n) for n in names})
    if previous is not None and previous.get(FINGERPRINT) != current:
        current = DRIFTED
    return {**state, **{n: None for n in names}, FINGERPRINT: current}
