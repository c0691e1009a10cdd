"""What every registry does around writing a version, local or through a ``blocks server``:
the checks before it and the attached rotation policy after it.

:meth:`blocks.registry.Registry.save` and :meth:`blocks.remote.registry.RemoteRegistry.save`
differ only in where the version is written (the store here, ``POST /v1/blocks`` there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from blocks import codec, hooks
from blocks.core import ROTATION_KEY, Block, validate_name
from blocks.errors import ValidationError

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol


@dataclass(frozen=True)
class PreparedSave:
    """A block checked and encoded for ``slug/name``, and whether ``block.rotation`` was
    assigned (its policy is stored after the version, by :meth:`attach_policy`)."""

    block: Block
    slug: str
    name: str
    encoded: codec.Encoded
    assigned: bool

    @property
    def ref(self) -> str:
        return f"{self.slug}/{self.name}"

    def attach_policy(self, registry: RegistryProtocol) -> None:
        """Store the policy assigned to ``block.rotation`` (or drop it for ``None``)."""
        if not self.assigned:
            return
        private: dict[str, Any] = self.block.__pydantic_private__ or {}
        hooks.get(hooks.ROTATION_PERSIST)(registry, self.ref, private[ROTATION_KEY])
        del private[ROTATION_KEY]


def prepare_save(block: Block, name: str, stage: Literal["pending"] | None) -> PreparedSave:
    """Check ``block`` and ``name`` and encode the block (before anything is written).

    A policy assigned to ``block.rotation`` is checked for the type here; a staged
    (``pending``) save leaves it for the next ordinary save.

    Raises:
        TypeError (not a Block subclass instance), InvalidName, ValidationError (field paths
        under ``slug/name``), and what the rotation check raises.
    """
    if not isinstance(block, Block) or type(block) is Block:
        raise TypeError("save() takes an instance of a Block subclass")
    validate_name(name)
    cls = type(block)
    slug = cls.block_type_slug
    private = block.__pydantic_private__ or {}
    assigned = ROTATION_KEY in private and stage is None
    if assigned and private[ROTATION_KEY] is not None:
        hooks.get(hooks.ROTATION_CHECK)(cls, private[ROTATION_KEY], f"{slug}/{name}")
    try:
        encoded = codec.encode(block)
    except ValidationError as exc:
        raise ValidationError(f"{slug}/{name}", exc.errors) from None
    return PreparedSave(block, slug, name, encoded, assigned)
