"""``Block.save``/``load``/``delete``/... : the recipe API, delegating to a registry.

``blocks.registry_protocol`` installs the process's default registry with
:func:`~blocks._block_base.set_registry_factory`, so this module (below the registry) never
imports it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from blocks import _compat, hooks
from blocks._async import run_sync
from blocks._block_base import _registry
from blocks._compat import Deleted
from blocks.errors import BlockNotSaved, BlocksError, PrefectError

if TYPE_CHECKING:
    from blocks._block_base import BlockRegistry as Registry
    from blocks.store.records import BlockSummary, VersionInfo


class Persistence:
    """The registry-backed methods of :class:`~blocks.core.Block` (mixed into it)."""

    if TYPE_CHECKING:
        block_type_slug: ClassVar[str]

        @property
        def block_name(self) -> str | None: ...

        @property
        def block_ref(self) -> str | None: ...

        @classmethod
        def _ref(cls, name: str) -> str: ...

    def save(
        self,
        name: str | None = None,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        registry: Registry | None = None,
        mirror_to_prefect: bool = False,
    ) -> VersionInfo:
        """Save this block as a new version of ``slug/name``.

        Args:
            name: block name (see :data:`NAME_RULE`); default: the name this block was loaded
                or saved under (``block.save(overwrite=True)`` after a load, as in Prefect).
            overwrite: allow adding a version to an existing block.
            expected_version: compare-and-set; the save fails unless the block's current version
                is this one (0 means "must not exist yet").
            registry: registry to use; the process default otherwise.
            mirror_to_prefect: also keep a copy on the Prefect server from now on (every later
                save re-pushes it); needs the ``prefect`` extra. See ``blocks mirror``.

        Returns:
            The new version's metadata.

        Raises:
            BlockAlreadyExists: the block exists and neither ``overwrite`` nor
                ``expected_version`` was given.
            ConflictError: ``expected_version`` did not match.
            ValidationError: the document is invalid (field path named).
            BlockNotSaved: no ``name`` was given and the block was never saved or loaded.
        """
        if name is None:
            name = self.block_name
            if name is None:
                raise BlockNotSaved(
                    f"this {type(self).__name__} was never saved or loaded: "
                    "give a name, e.g. block.save('data-lake')"
                )
        chosen = _registry(registry)
        info = chosen.save(
            self, name,
            overwrite=overwrite, expected_version=expected_version,
        )
        if mirror_to_prefect:
            ref = f"{type(self).block_type_slug}/{name}"
            try:
                hooks.get(hooks.MIRRORS_ADD)(chosen, ref, "prefect")
            except BlocksError as exc:
                # The save has committed: say so, and how to finish the mirroring.
                raise PrefectError(
                    f"{ref} is saved in Blocks (version {info.version}), but mirroring it to "
                    f"prefect failed: {exc}. The block is not mirrored; run 'blocks mirror "
                    f"{ref} --to prefect' once that is fixed"
                ) from None
        return info

    @classmethod
    def load(
        cls,
        name: str,
        *,
        version: int | None = None,
        validate: bool = True,
        stage: Literal["current", "pending", "previous"] | None = None,
        registry: Registry | None = None,
    ) -> Self:
        """Load a block: ``S3Bucket.load("data-lake")`` or ``Block.load("s3-bucket/data-lake")``.

        Args:
            name: block name, or ``type-slug/name``.
            version: a past version; default: the current one.
            validate: with ``False``, a stored document that no longer fits the type (fields
                added since it was saved) still loads, as in Prefect: missing fields are
                ``None``, fields that do not validate keep their stored value, and a warning
                names them. Save the block again once the fields are filled in.
            registry: registry to use; the process default otherwise.

        ``stage="previous"`` or ``"pending"`` loads a rotation's old or not-yet-promoted
        credential instead of the current one.

        Raises:
            BlockNotFound: no such block or version (also a ``ValueError``).
            UnknownBlockType: the slug names no known type.
            DecryptionError: the stored data cannot be opened with this key.
        """
        block = _registry(registry).load(
            cls._ref(name), version=version, stage=stage, validate=validate
        )
        if not isinstance(block, cls):
            raise TypeError(f"{block.block_ref} is a {type(block).__name__}, not a {cls.__name__}")
        return block

    @classmethod
    def load_from_ref(
        cls,
        ref: str | uuid.UUID | Mapping[str, Any],
        validate: bool = True,
        *,
        registry: Registry | None = None,
    ) -> Self:
        """Load a block by reference, as Prefect 3's ``Block.load_from_ref``.

        Args:
            ref: a block id (``str`` or ``UUID``; ``block.block_id``), a name or
                ``type-slug/name``, or Prefect's ``{"block_document_id": id}`` /
                ``{"block_document_slug": "type-slug/name"}`` (a name alone means this type).
            validate: as for :meth:`load`.
            registry: registry to use; the process default otherwise.

        Raises:
            BlockNotFound: no such block (also a ``ValueError``, as in Prefect).
            InvalidName: ``ref`` is none of the forms above (also a ``ValueError``).
            TypeError: the block is of another type than ``cls``.
        """
        chosen = _registry(registry)
        ref_text = _compat.ref_of(cls, ref, chosen)
        return cls.load(ref_text, validate=validate, registry=chosen)

    @classmethod
    async def aload_from_ref(
        cls,
        ref: str | uuid.UUID | Mapping[str, Any],
        validate: bool = True,
        *,
        registry: Registry | None = None,
    ) -> Self:
        """:meth:`load_from_ref` without blocking the event loop."""
        return await run_sync(cls.load_from_ref, ref, validate, registry=registry)

    @classmethod
    def delete(
        cls, name: str, *, registry: Registry | None = None,
        recovery_window: timedelta | int | str | None = None,
    ) -> Deleted:
        """Delete a block (refused while other blocks reference it): it can be brought back
        within its recovery window (``BLOCKS_RECOVERY_WINDOW``, default 7 days, or
        ``recovery_window``; 0 shreds every version at once); see :meth:`Registry.delete`.

        Returns:
            A :class:`Deleted` naming the block; ``await Block.delete(name)`` (Prefect 3's
            async form) works too and gives ``None``, the delete having run already.
        """
        ref = cls._ref(name)
        _registry(registry).delete(ref, recovery_window=recovery_window)
        return Deleted(ref)

    @classmethod
    def rename(
        cls,
        name: str,
        new_name: str,
        *,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> BlockSummary:
        """Rename a block: same id, history kept, references follow (see ``Registry.rename``)."""
        return _registry(registry).rename(
            cls._ref(name), new_name, expected_version=expected_version
        )

    @classmethod
    def history(cls, name: str, *, registry: Registry | None = None) -> list[VersionInfo]:
        """Every stored version of the block, oldest first."""
        return _registry(registry).history(cls._ref(name))

    @classmethod
    def rollback(
        cls,
        name: str,
        version: int,
        *,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> VersionInfo:
        """Make a new version whose content is that of ``version``."""
        return _registry(registry).rollback(
            cls._ref(name), version, expected_version=expected_version
        )
