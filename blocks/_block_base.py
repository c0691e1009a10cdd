"""What the modules below :mod:`blocks.core` know of a block, so that none imports it.

* :class:`BlockProtocol`: the members of ``Block`` its mixins (:mod:`blocks._async`,
  :mod:`blocks._compat`) and the type index call, to type a block or block class by.
* The index of block types by slug, which ``Block`` fills as each subclass is defined
  (:func:`register`); :mod:`blocks.catalog` looks types up in it.
* :class:`BlockRegistry`: what a block's own methods call on a registry (both registries
  offer it), to type their ``registry=`` by.
* The process's default registry: ``blocks.registry_protocol`` installs it with
  :func:`set_registry_factory`, and ``Block.save``/``load``/... without ``registry=`` use it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self

if TYPE_CHECKING:
    from datetime import timedelta

    from blocks.store.records import BlockSummary, VersionInfo


class BlockRegistry(Protocol):
    """What a block's own methods (``save``, ``load``, ``delete``, ...) call on a registry: the
    part of :class:`blocks.registry_protocol.RegistryProtocol` that the local registry and a
    ``blocks server``'s offer alike, typed without naming ``Block`` (it sits above this
    module; a block that comes back is a :class:`BlockProtocol`)."""

    @property
    def loads_on_loop(self) -> bool:
        """``aload`` may try the load on the event loop first (``blocks._nowait``)."""
        ...

    def save(self, block: Any, name: str, *, overwrite: bool = False,
             expected_version: int | None = None, note: str | None = None,
             stage: Literal["pending"] | None = None) -> VersionInfo:
        """Save ``block`` (a ``Block``: Any here, as the registries take nothing narrower than
        the whole model) as a new version of its ``slug/name``."""
        ...

    def load(self, ref: str, *, version: int | None = None,
             stage: Literal["current", "pending", "previous"] | None = None,
             validate: bool = True) -> BlockProtocol:
        """The block ``ref`` names (``slug/name``)."""
        ...

    def delete(self, ref: str, *,
               recovery_window: timedelta | int | str | None = None) -> None:
        """Delete ``ref`` (kept for the recovery window)."""
        ...

    def rename(self, ref: str, new_name: str, *,
               expected_version: int | None = None) -> BlockSummary:
        """Rename ``ref`` to ``new_name``."""
        ...

    def ref_by_id(self, block_id: str) -> str:
        """``slug/name`` of the block with id ``block_id``."""
        ...

    def history(self, ref: str) -> list[VersionInfo]:
        """Every stored version of ``ref``, oldest first."""
        ...

    def rollback(self, ref: str, version: int, *,
                 expected_version: int | None = None) -> VersionInfo:
        """A new version of ``ref`` with the content of ``version``."""
        ...

    def parse(self, slug: str, data: Mapping[str, Any], *, ref: str = "") -> BlockProtocol:
        """A block of type ``slug`` from ``data`` (checked as a load checks a document)."""
        ...


class BlockProtocol(Protocol):
    """What the lower modules use of a block class or instance; ``Block`` satisfies it."""

    block_type_slug: ClassVar[str]

    @property
    def block_ref(self) -> str | None:
        """``slug/name`` this block was saved or loaded as (``None`` before its first save)."""
        ...

    def save(self, name: str | None = None, *, overwrite: bool = False,
             expected_version: int | None = None,
             registry: BlockRegistry | None = None) -> VersionInfo:
        """Save this block as a new version of ``slug/name`` (see ``Block.save``)."""
        ...

    @classmethod
    def load(cls, name: str, *, version: int | None = None, validate: bool = True,
             registry: BlockRegistry | None = None) -> Self:
        """Load a block of this type (see ``Block.load``)."""
        ...

    @classmethod
    def delete(cls, name: str, *, registry: BlockRegistry | None = None,
               recovery_window: timedelta | int | str | None = None) -> object:
        """Delete a block (see ``Block.delete``)."""
        ...

    @classmethod
    def history(cls, name: str, *, registry: BlockRegistry | None = None) -> list[VersionInfo]:
        """Every stored version of the block, oldest first (see ``Block.history``)."""
        ...

    @classmethod
    def rollback(cls, name: str, version: int, *, expected_version: int | None = None,
                 registry: BlockRegistry | None = None) -> VersionInfo:
        """Make a new version whose content is that of ``version`` (see ``Block.rollback``)."""
        ...

    @classmethod
    def _ref(cls, name: str) -> str:
        """``slug/name`` of the block ``name`` names, checked against this type."""
        ...


# -- the index of block types ------------------------------------------------------------------

_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_lock = threading.RLock()
_registered: dict[str, type[BlockProtocol]] = {}


def slug_from_class_name(name: str) -> str:
    """``S3Bucket`` -> ``s3-bucket``, ``AwsCredentials`` -> ``aws-credentials``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name)
    return spaced.lower()


def check_slug(slug: str) -> None:
    """Raise ``ValueError`` unless ``slug`` is lowercase words joined by single dashes."""
    if not _SLUG_RE.match(slug):
        raise ValueError(
            f"block type slug {slug!r} must be lowercase letters and digits in words joined by "
            "single dashes, e.g. 's3-bucket'"
        )


def register(cls: type[BlockProtocol]) -> None:
    """Add a block class to the catalog (called for every ``Block`` subclass).

    Redefining a class with the same module and qualified name replaces it (useful in notebooks);
    a different class claiming a taken slug is refused.
    """
    slug = cls.block_type_slug
    with _lock:
        existing = _registered.get(slug)
        if existing is not None and _qualname(existing) != _qualname(cls):
            raise ValueError(
                f"block type slug {slug!r} of {_qualname(cls)} is already used by "
                f"{_qualname(existing)}; set a different block_type_slug"
            )
        _registered[slug] = cls


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# -- the default registry ----------------------------------------------------------------------

_registry_factory: Callable[[], BlockRegistry] | None = None


def set_registry_factory(factory: Callable[[], BlockRegistry]) -> None:
    """Install the function that gives ``Block`` methods their default registry."""
    global _registry_factory
    _registry_factory = factory


def _registry(registry: BlockRegistry | None) -> BlockRegistry:
    """``registry``, else the process's default registry."""
    if registry is not None:
        return registry
    if _registry_factory is None:
        raise RuntimeError("no default registry: import blocks (the package) first")
    return _registry_factory()
