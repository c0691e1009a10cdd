"""``rotation { ... }`` on the typed resources (those with a secret field); see
:mod:`blocks_terraform.resources.rotation` for the semantics.

The *rotated fields* are the ones the policy's rotator changes (``Rotator.fields``). Their
attributes keep what the configuration gives and are never refreshed from the registry;
``rotation_fingerprint`` (keyed HMAC of their stored values) tracks them instead: a refresh
adopts a version a recorded rotation promoted, and marks any other change
``changed-outside-terraform`` (keeping the version to restore them from).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.resources.rotation import (
    DRIFTED,
    FINGERPRINT,
    TYPED_ROTATORS,
    policy_of,
    restore_target,
    rotated_versions,
    rotation_attributes,
    rotation_block,
    trigger_changed,
    validate_policy,
)

__all__ = ["DRIFTED", "FINGERPRINT", "attributes", "block", "fingerprint", "plan", "refresh",
           "rotatable", "rotated", "source", "validate"]

Specs = Sequence[dict[str, Any]]


def rotatable(fields: Specs) -> bool:
    """Whether the type has a secret field (only those get ``rotation``)."""
    return any(spec["sensitive"] for spec in fields)


def attributes() -> list[Attribute]:
    """``rotate_trigger`` and ``rotation_fingerprint``."""
    return [*rotation_attributes(), Attribute(
        FINGERPRINT, types.String(), computed=True,
        description="Keyed fingerprint (`hmac-sha256:...`) of the stored values of the fields "
                    f"`rotation` manages; `{DRIFTED}` when one was changed outside Terraform "
                    "and not by a recorded rotation (apply restores the last rotated values). "
                    "Null without `rotation`.",
    )]


def block() -> Any:
    """The ``rotation`` nested block of a typed resource."""
    return rotation_block(
        TYPED_ROTATORS,
        "the credential (`blocks rotate --due`). The fields the rotator changes (`password`; "
        "the key pair for aws-iam-access-key; `options.field` for generated) are managed by "
        "rotation: their attributes only give the first value (or none) and are never "
        "refreshed, `rotation_fingerprint` tracks the stored values, a rotation leaves the "
        "plan empty, and writes of other fields keep the rotated values. Give the first value "
        "with `<field>_wo` or `<field>_from_secret`, or leave it unset, to keep every value out "
        "of state",
    )


def validate(diags: Diagnostics, config: dict[str, Any]) -> None:
    """The policy parses; ``rotate_trigger`` needs ``rotation``."""
    validate_policy(diags, config)


def rotated(slug: str, fields: Specs, state: dict[str, Any] | None,
            diags: Diagnostics | None = None) -> list[str]:
    """Attribute names of the fields the declared rotation changes (none without one).

    With ``diags``, a policy that cannot rotate this type is reported on ``rotation``.
    """
    rotation = (state or {}).get("rotation")
    if not rotation or not _known(rotation):
        return []
    from blocks import catalog
    from blocks.errors import BlocksError
    from blocks.rotation.attached import rotated_fields

    try:
        paths = rotated_fields(catalog.get(slug), policy_of(rotation))
    except (BlocksError, ValueError) as exc:
        if diags is not None:
            errors = getattr(exc, "errors", None) or [("rotation", str(exc))]
            for path, message in errors:
                where = str(path).removeprefix("rotation.")
                diags.add_error("Invalid rotation", f"{where}: {message}",
                                path=["rotation", where.split(".")[0]])
        return []
    tops = {p.split(".")[0] for p in paths}
    return [s["name"] for s in fields if s.get("field", s["name"]) in tops]


def fingerprint(runtime: Any, state: dict[str, Any], names: list[str]) -> str | None:
    """The fingerprint of the rotated fields' values in ``state`` (built from the block)."""
    if not names:
        return None
    value: str = runtime.fingerprint({n: state.get(n) for n in names})
    return value


def plan(prior: dict[str, Any] | None, planned: dict[str, Any], config: dict[str, Any]) -> None:
    """Fingerprint and ``version`` unknown on a write, a trigger change or drift."""
    if config.get("rotation") is None:
        # Terraform 1.0 proposes the prior block when the configuration drops it.
        planned["rotation"] = None
    if planned.get("rotation") is None:
        if prior is not None and prior.get("rotation") is not None:
            planned["version"] = Unknown  # the rotated fields go back to the configuration
        planned[FINGERPRINT] = None
        return
    if prior is not None and (trigger_changed(prior, planned)
                              or prior.get(FINGERPRINT) == DRIFTED):
        planned["version"] = Unknown
    if (prior is None or planned.get("version") is Unknown or prior.get(FINGERPRINT) is None
            or prior.get("rotation") != planned["rotation"]):
        planned[FINGERPRINT] = Unknown  # a new policy may rotate other fields
    else:
        planned[FINGERPRINT] = prior.get(FINGERPRINT)


def refresh(runtime: Any, current: dict[str, Any], state: dict[str, Any],
            names: list[str]) -> tuple[dict[str, Any], bool]:
    """State after a refresh: the rotated fields as in ``current``, the fingerprint checked.

    Returns:
        The state and whether it adopted a rotated version (then write-only fingerprints are
        recomputed rather than compared: a rotation changed those values too).
    """
    if not names or current.get("version") is None:
        return state, False
    stored = fingerprint(runtime, state, names)
    rotations = rotated_versions(runtime, state["id"], current)
    state = {**state, **{n: current.get(n) for n in names}}
    version = int(state["version"])
    if stored == current.get(FINGERPRINT):
        return {**state, FINGERPRINT: stored}, False
    if version in rotations:  # a rotation's version (also after a hand edit it replaced)
        return {**state, FINGERPRINT: stored}, True
    return {**state, FINGERPRINT: DRIFTED,
            "version": restore_target(rotations, current["version"])}, False


def source(registry: Any, ref: str, current: dict[str, Any] | None,
           names: list[str]) -> dict[str, Any]:
    """The stored values the rotated fields keep on a write: those of state's version (the
    refreshed one, or the one to restore after drift). Empty when creating."""
    if not names or current is None or current.get("version") is None:
        return {}
    from blocks import codec

    block = registry.load(ref, version=int(current["version"]))
    stored = codec.to_display(block, show_secrets=True)
    return {n: stored.get(n) for n in names}


def _known(value: Any) -> bool:
    from blocks_terraform.framework import is_known

    return bool(is_known(value))
