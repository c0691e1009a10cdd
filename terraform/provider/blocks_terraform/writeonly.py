"""Write-only twins of the secret fields of typed resources (Terraform >= 1.11).

For every secret field ``<f>`` a typed resource also has

* ``<f>_wo``: the same value, write-only: Terraform sends it to the provider in configuration
  only; plan and state hold null (see :mod:`blocks_terraform.protocol`);
* ``<f>_from_secret``: the ``id`` of a ``blocks_secret`` (typically a generated one) whose
  value the provider copies into the field inside the registry, so it never passes through
  plan or state either; this works on every Terraform version;
* ``<f>_wo_version``: a number stored in state; Terraform cannot compare a write-only value
  with anything, so changing the version is how a new ``<f>_wo`` value is written (as
  terraform-provider-prefect's ``data_wo``/``data_wo_version``). With ``<f>_from_secret``,
  pass the secret's ``version`` so that a regenerated secret is copied again.

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
            f"{name}_from_secret", types.String(), optional=True,
            description=f"The `id` of a `blocks_secret` (e.g. a generated one) whose value "
                        f"becomes `{name}`, copied inside the registry: it never enters plan or "
                        f"state, on any Terraform version. Needs `{name}_wo_version` (pass the "
                        f"secret's `version`); conflicts with `{name}` and `{name}_wo`. "
                        "Optional.",
        ))
        out.append(Attribute(
            f"{name}_wo_version", types.Number(), optional=True,
            description=f"Version of `{name}_wo` or `{name}_from_secret`: required with "
                        f"either; change it to write a new value (Terraform cannot see changes "
                        "of write-only values). Optional.",
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
    """``<f>``, ``<f>_wo`` and ``<f>_from_secret`` are exclusive; the latter two need
    ``<f>_wo_version``; ``<f>_from_secret`` is the id of a secret block."""
    for name in secret_fields(fields):
        sources = [k for k in (name, f"{name}_wo", f"{name}_from_secret")
                   if config.get(k) is not None]
        version = config.get(f"{name}_wo_version")
        source = config.get(f"{name}_from_secret")
        if len(sources) > 1:
            diags.add_error(f"Conflicting {' and '.join(sources)}",
                            f"set only one of {name} (held in state), {name}_wo (write-only) "
                            f"and {name}_from_secret", path=[sources[1]])
        elif sources and sources[0] != name and version is None:
            diags.add_error(f"Missing {name}_wo_version",
                            f"{sources[0]} needs {name}_wo_version (any number, e.g. 1, or the "
                            f"secret's version); change it to write a new value",
                            path=[f"{name}_wo_version"])
        elif sources[:1] in ([], [name]) and version is not None:
            diags.add_error(f"{name}_wo_version without {name}_wo",
                            f"{name}_wo_version versions the value of {name}_wo or "
                            f"{name}_from_secret; set one of them or remove the version",
                            path=[f"{name}_wo_version"])
        if isinstance(source, str) and not (source.startswith("secret/") and len(source) > 7):
            diags.add_error(f"Invalid {name}_from_secret",
                            f"{name}_from_secret takes the id of a blocks_secret "
                            f"('secret/<name>'), got {source!r}",
                            path=[f"{name}_from_secret"])


def managed(fields: Iterable[dict[str, Any]], state: dict[str, Any] | None) -> list[str]:
    """The secret fields that ``state`` manages write-only."""
    if not state:
        return []
    return [n for n in secret_fields(fields) if state.get(f"{n}_wo_version") is not None]


def config_value(config: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A field's configured value for plan-time checks: its own attribute, else its write-only
    twin; Unknown when it comes from a secret block (read at apply)."""
    value = config.get(spec["name"])
    if value is None and spec["sensitive"]:
        value = config.get(f"{spec['name']}_wo")
        if value is None and config.get(f"{spec['name']}_from_secret") is not None:
            return Unknown
    return value


def written_value(config: dict[str, Any], name: str, registry: Any) -> Any:
    """The value to store for a managed field: its ``_wo`` value, or its secret's value."""
    source = config.get(f"{name}_from_secret")
    if source is not None:
        return registry.load(source).get()
    return config.get(f"{name}_wo")


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
