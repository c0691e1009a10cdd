"""A Blocks block as Prefect's ``result_storage`` (and deployment storage).

Prefect stores task and flow results through a ``WritableFileSystem`` block (``read_path`` /
``write_path``) and pulls deployment code through ``WritableDeploymentStorage``
(``get_directory`` / ``put_directory``). :class:`BlocksStorage` is such a Prefect block that
does each call through a Blocks block, e.g. an :class:`~blocks.S3Bucket`::

    from blocks.integrations.prefect.result_storage import BlocksStorage

    storage = BlocksStorage.of(S3Bucket.load("results"))
    storage.save("results", overwrite=True)   # Prefect's tasks want saved storage

    @task(persist_result=True, result_storage=storage)
    def transform() -> ...

It holds only the Blocks reference (``block_ref``, e.g. ``s3-bucket/results``), never the
credentials: the Prefect document carries no secret, and the process that runs the flow loads
the bucket from Blocks (its ``BLOCKS_*`` settings). A process that resolves the saved storage by
name (``result_storage="blocks-storage/results"``) must have imported this module.

This module imports ``prefect``; it is loaded only by code that uses it (``import blocks``
and the rest of the bridge never load it).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from prefect.filesystems import WritableDeploymentStorage, WritableFileSystem
from pydantic import Field, PrivateAttr

from blocks._async import run_sync
from blocks.core import Block as BlocksBlock
from blocks.errors import ConfigurationError

_CALLS = ("read_path", "write_path")


class BlocksStorage(WritableFileSystem, WritableDeploymentStorage):
    """Prefect storage backed by a Blocks block with ``read_path``/``write_path`` (S3Bucket).

    Args:
        block_ref: the Blocks block, ``type-slug/name`` (e.g. ``s3-bucket/results``).
    """

    _block_type_name: ClassVar[str] = "Blocks Storage"
    _block_type_slug: ClassVar[str] = "blocks-storage"
    _description: ClassVar[str] = "Results and deployment code stored through a Blocks block."

    block_ref: str = Field(
        description="The Blocks block holding the storage, type-slug/name (e.g. "
        "s3-bucket/results); loaded from the Blocks registry of the process that runs.",
    )

    _target: Any = PrivateAttr(default=None)

    @classmethod
    def of(cls, block: BlocksBlock) -> BlocksStorage:
        """Storage through ``block`` (a saved or loaded Blocks block, e.g. ``S3Bucket``).

        Raises:
            ConfigurationError: the block was never saved, or cannot read and write paths.
        """
        missing = [name for name in _CALLS if not callable(getattr(block, name, None))]
        if missing:
            raise ConfigurationError(
                f"a {type(block).__name__} cannot be Prefect storage: it has no "
                f"{' or '.join(missing)}; use an S3Bucket"
            )
        if block.block_ref is None:
            raise ConfigurationError(
                f"save the {type(block).__name__} in Blocks before using it as Prefect "
                "storage, e.g. bucket.save('results')"
            )
        storage = cls(block_ref=block.block_ref)
        storage._target = block
        return storage

    def _block(self) -> Any:
        if self._target is None:
            self._target = BlocksBlock.load(self.block_ref)
        return self._target

    # Prefect 3 calls these both ways: awaited in async code (``aread_path`` when it exists)
    # and, from sync code, ``read_path(..., _sync=True)``. Each sync call runs the Blocks
    # block's one sync core; each ``a…`` twin runs it on a worker thread.

    async def aread_path(self, path: str) -> bytes:
        """The content at ``path`` (relative to the block's folder)."""
        content: bytes = await run_sync(self._block().read_path, path)
        return content

    def read_path(self, path: str, _sync: bool | None = None) -> Any:
        """The content at ``path``; in async code (unless ``_sync``) an awaitable of it."""
        if _wants_awaitable(_sync):
            return self.aread_path(path)
        return self._block().read_path(path)

    async def awrite_path(self, path: str, content: bytes) -> None:
        """Write ``content`` at ``path`` (replacing what is there)."""
        await run_sync(self._block().write_path, path, content)

    def write_path(
        self, path: str, content: bytes, _sync: bool | None = None
    ) -> Any:
        """Write ``content`` at ``path``; in async code (unless ``_sync``) an awaitable."""
        if _wants_awaitable(_sync):
            return self.awrite_path(path, content)
        self._block().write_path(path, content)
        return None

    async def aget_directory(
        self, from_path: str | None = None, local_path: str | None = None
    ) -> None:
        """Download ``from_path`` (default: everything) into ``local_path``."""
        await run_sync(self._block().get_directory, from_path, local_path)

    def get_directory(
        self, from_path: str | None = None, local_path: str | None = None,
        _sync: bool | None = None,
    ) -> Any:
        """:meth:`aget_directory`, awaitable in async code unless ``_sync``."""
        if _wants_awaitable(_sync):
            return self.aget_directory(from_path, local_path)
        self._block().get_directory(from_path, local_path)
        return None

    async def aput_directory(
        self, local_path: str | None = None, to_path: str | None = None,
        ignore_file: str | None = None,
    ) -> None:
        """Upload ``local_path`` to ``to_path``."""
        await run_sync(self._block().put_directory, local_path, to_path, ignore_file)

    def put_directory(
        self, local_path: str | None = None, to_path: str | None = None,
        ignore_file: str | None = None, _sync: bool | None = None,
    ) -> Any:
        """:meth:`aput_directory`, awaitable in async code unless ``_sync``."""
        if _wants_awaitable(_sync):
            return self.aput_directory(local_path, to_path, ignore_file)
        self._block().put_directory(local_path, to_path, ignore_file)
        return None


def _wants_awaitable(sync: bool | None) -> bool:
    if sync is not None:
        return not sync
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
