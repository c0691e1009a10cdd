"""The ``rotation { ... }`` block and ``rotate_trigger`` of ``blocks_secret`` and of the typed
resources with secret fields (issue 9).

A rotated value is managed by rotation, not by configuration. On ``blocks_secret`` it must
come from ``generate`` (so only a version and a keyed fingerprint are in state). On a typed
resource the fields the rotator changes (``password`` for ``postgres-password``, the key pair
for ``aws-iam-access-key``, ``options.field`` for ``generated``) keep in state what the
configuration gives (their first value, or null) and are never refreshed from the registry;
``rotation_fingerprint`` holds a keyed fingerprint of their stored values instead. A refresh
that finds a version promoted by a recorded rotation adopts it (new version and fingerprint)
instead of restoring Terraform's, so ``blocks rotate --due`` leaves ``terraform plan`` with
no changes; a change made by hand shows as ``changed-outside-terraform`` and apply restores
the last rotated value. Writes of other fields keep the rotated values. Changing
``rotate_trigger`` rotates on the next apply, as ``keepers`` regenerate.
"""

from __future__ import annotations

from typing import Any

from tf import types
from tf.schema import Attribute, Block
from tf.utils import Diagnostics

from blocks_terraform.framework import Json, SingleNestedBlock, is_known, loads


def rotation_attributes() -> list[Attribute]:
    """``rotate_trigger``."""
    return [Attribute(
        "rotate_trigger", types.String(), optional=True,
        description="Any string; changing it rotates the value on apply (needs `rotation`).",
    )]


SECRET_ROTATORS = ("Rotator: generated (default), vault-kv or a plug-in of the "  # noqa: S105
                   "'blocks.rotators' entry-point group.")
TYPED_ROTATORS = ("Rotator: generated (default; `options` names the secret `field`), "
                  "postgres-password (database-credentials), aws-iam-access-key "
                  "(aws-credentials), vault-kv, or a plug-in of the 'blocks.rotators' "
                  "entry-point group.")
FINGERPRINT = "rotation_fingerprint"
DRIFTED = "changed-outside-terraform"


def rotation_block(rotators: str = SECRET_ROTATORS,
                   what: str = "the generated value on a schedule (`blocks rotate --due`)"
                   ) -> SingleNestedBlock:
    """``rotation { rotator, every | cron, grace, options }``."""
    return SingleNestedBlock("rotation", Block(
        attributes=[
            Attribute("rotator", types.String(), optional=True, description=rotators),
            Attribute("every", types.String(), optional=True,
                      description="Rotate this long after the last rotation, e.g. `30d`, "
                                  "`12h`. Or give `cron`; neither: only on `rotate_trigger`."),
            Attribute("cron", types.String(), optional=True,
                      description="Cron expression in UTC, e.g. `0 3 * * 1`."),
            Attribute("grace", types.String(), optional=True,
                      description="How long the previous value stays valid before it is "
                                  "revoked. Default: `1d`."),
            Attribute("options", Json(), optional=True,
                      description="Rotator options as JSON (`jsonencode({length = 40})`); no "
                                  "secrets."),
        ],
        description=f"Rotate {what}.",
    ))


def policy_of(rotation: dict[str, Any]) -> Any:
    """The :class:`~blocks.rotation.RotationPolicy` of a ``rotation`` block."""
    from blocks.rotation import RotationPolicy

    fields: dict[str, Any] = {"rotator": rotation.get("rotator") or "generated"}
    for attr, key in (("every", "interval"), ("cron", "cron"), ("grace", "grace")):
        if rotation.get(attr) is not None:
            fields[key] = rotation[attr]
    if rotation.get("options") is not None:
        fields["options"] = loads(rotation["options"])
    return RotationPolicy.model_validate(fields)


def validate_rotation(diags: Diagnostics, config: dict[str, Any]) -> None:
    """``rotation`` needs ``generate``; its policy must parse; a trigger needs a rotation."""
    if config.get("rotation") is not None and config.get("generate") is None:
        diags.add_error("Rotation needs generate",
                        "a rotated value is managed by rotation: use generate { } instead of "
                        "value or value_json", path=["rotation"])
    validate_policy(diags, config)


def validate_policy(diags: Diagnostics, config: dict[str, Any]) -> None:
    """The ``rotation`` policy must parse; ``rotate_trigger`` needs a ``rotation``."""
    import pydantic

    rotation = config.get("rotation")
    if config.get("rotate_trigger") is not None and rotation is None:
        diags.add_error("rotate_trigger without rotation",
                        "add a rotation { } block to rotate on a trigger", path=["rotate_trigger"])
    if rotation is None or not is_known(rotation):
        return
    try:
        policy_of(rotation)
    except (pydantic.ValidationError, ValueError) as exc:
        errors = exc.errors(include_input=False) if isinstance(
            exc, pydantic.ValidationError) else [{"loc": ("options",), "msg": str(exc)}]
        for err in errors:
            where = {"interval": "every"}.get(str(err["loc"][0]), str(err["loc"][0])) if err[
                "loc"] else "rotation"
            diags.add_error("Invalid rotation", f"{where}: {err['msg']}",
                            path=["rotation", where])


def trigger_changed(prior: dict[str, Any] | None, planned: dict[str, Any]) -> bool:
    """A changed ``rotate_trigger`` (set on an existing resource) rotates on apply."""
    return (prior is not None and planned.get("rotation") is not None
            and planned.get("rotate_trigger") != prior.get("rotate_trigger"))


def apply_rotation(runtime: Any, ref: str, planned: dict[str, Any],
                   prior: dict[str, Any] | None) -> None:
    """Store or drop the policy, then rotate if the trigger changed (recorded as Terraform)."""
    rotation = planned.get("rotation")
    had = prior is not None and prior.get("rotation") is not None
    if rotation is None and not had:
        return  # nothing to do: no rotation tables touched
    from blocks.rotation import default_actor

    rot = runtime.registry.rotation(default_actor("terraform"))
    if rotation is None:
        rot.drop_policy(ref)
        return
    rot.set_policy(ref, policy_of(rotation))
    if trigger_changed(prior, planned):
        outcome = rot.rotate(ref, force=True)
        if outcome.failed:
            from blocks.errors import RotationError

            raise RotationError(ref, outcome.step or "rotate", outcome.error or "failed")


def rotated_versions(runtime: Any, ref: str, state: dict[str, Any]) -> set[int]:
    """Versions a recorded rotation promoted (none unless the resource declares rotation)."""
    if state.get("rotation") is None:
        return set()
    found: set[int] = runtime.registry.rotation().promoted_versions(ref)
    return found


def restore_target(rotated: set[int], version: Any) -> int:
    """The version to restore after drift: Terraform's, or a later rotated one."""
    return max({int(version), *(v for v in rotated if v > int(version))})
