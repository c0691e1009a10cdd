"""``block.rotation``: a rotation policy assigned to a block in Python, stored by ``save()``.

Assigning (``block.rotation = RotationPolicy(...)``) checks the policy against the block's
type at once (rotator name, options, the field it rotates) and raises a ``ValidationError``
naming ``rotation.<field>``; nothing is stored yet. ``Registry.save`` (and so ``block.save``)
checks it again before the version is written, so a policy that cannot work saves nothing,
then stores it right after the version, in its own transaction (``rotation_policy`` is not
written with the block's rows). ``block.rotation = None`` followed by a save stops rotating.

Reading ``block.rotation`` gives the assigned, unsaved policy; else, on a saved or loaded
block, the policy stored now for that block (one indexed read each time) in the registry the
block came from; else ``None``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from blocks.core import ROTATION_KEY, Block
from blocks.errors import BlocksError, ValidationError
from blocks.rotation_types.policy import RotationPolicy

if TYPE_CHECKING:
    from blocks.registry import Registry


def coerce(slug: str, value: Any) -> RotationPolicy | None:
    """``value`` as a policy: a :class:`RotationPolicy`, a dict of its fields, or ``None``.

    Raises:
        ValidationError: naming ``rotation`` or ``rotation.<field>``.
    """
    import pydantic

    from blocks.core import pydantic_errors

    if value is None or isinstance(value, RotationPolicy):
        return value
    if not isinstance(value, dict):
        raise ValidationError(slug, [("rotation", "must be a RotationPolicy (or None), e.g. "
                                      "RotationPolicy(rotator='generated', interval='30d')")])
    try:
        return RotationPolicy.model_validate(value)
    except pydantic.ValidationError as exc:
        raise ValidationError(slug, pydantic_errors(exc, "rotation")) from None


def check(block_type: type[Block], policy: RotationPolicy, what: str) -> None:
    """Refuse a policy that cannot rotate blocks of ``block_type`` (errors name ``rotation.*``).

    Raises:
        ValidationError: unknown rotator, bad options, or a field the rotator cannot rotate.
    """
    import pydantic

    from blocks.core import pydantic_errors
    from blocks.rotation import plugins

    try:
        rotator = plugins.get(policy.rotator)
    except BlocksError as exc:
        raise ValidationError(what, [("rotation.rotator", str(exc))]) from None
    try:
        options = rotator.options_model.model_validate(policy.options)
    except pydantic.ValidationError as exc:
        raise ValidationError(what, pydantic_errors(exc, "rotation.options")) from None
    try:
        rotator.check(block_type, options)
    except ValidationError as exc:
        raise ValidationError(what, [(f"rotation.{p}" if p else "rotation", m)
                                     for p, m in exc.errors]) from None


def assign(block: Block, value: Any) -> None:
    """``block.rotation = value``: check it now, store it on the next save."""
    policy = coerce(block.block_type_slug, value)
    if policy is not None:
        check(type(block), policy, block.block_ref or block.block_type_slug)
    block.__pydantic_private__[ROTATION_KEY] = policy  # type: ignore[index]


def policy_of(block: Block) -> RotationPolicy | None:
    """``block.rotation``: the assigned policy, else the stored one, else ``None``."""
    private = block.__pydantic_private__ or {}
    if ROTATION_KEY in private:
        assigned: RotationPolicy | None = private[ROTATION_KEY]
        return assigned
    registry = _registry_of(block)
    if registry is None or block.block_id is None or block.block_ref is None:
        return None
    found = registry.rotation().policy(block.block_ref)
    return found.policy if found is not None else None


def persist(registry: Registry, ref: str, policy: RotationPolicy | None) -> None:
    """Store (or, for ``None``, drop) the policy of the block just saved as ``ref``."""
    rotation = registry.rotation()
    if policy is None:
        rotation.drop_policy(ref)
    else:
        rotation.set_policy(ref, policy)


def _registry_of(block: Block) -> Registry | None:
    meta = block._block_meta
    ref = getattr(meta, "registry", None)
    if isinstance(ref, weakref.ref):
        found: Registry | None = ref()
        return found
    return None


def rotated_fields(block_type: type[Block], policy: RotationPolicy) -> tuple[str, ...]:
    """The fields (dot paths of field names) that rotating under ``policy`` changes.

    A rotator says so with an optional ``fields(block_type, options)`` method; one without it
    is taken to change every secret field of the type.

    Raises:
        ValidationError: the policy cannot rotate this type (as :func:`check`).
    """
    from blocks.rotation import plugins

    check(block_type, policy, block_type.block_type_slug)
    rotator = plugins.get(policy.rotator)
    options = rotator.options_model.model_validate(policy.options)
    says = getattr(rotator, "fields", None)
    if callable(says):
        return tuple(says(block_type, options))
    return tuple(dict.fromkeys(p.split(".")[0] for p in block_type.secret_paths()))
