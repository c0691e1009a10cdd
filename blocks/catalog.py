"""The catalog of block types: built-ins, user subclasses and entry-point plug-ins.

Built-in types are imported on first use, and the ``blocks.types`` entry-point group is read
only when a slug is not found otherwise, so ``import blocks`` stays fast.

``Block`` adds each subclass as it is defined, to the index below it in the imports
(:mod:`blocks._block_base`); this module looks types up there.
"""

from __future__ import annotations

import importlib
from typing import cast

from blocks._block_base import _lock
from blocks._block_base import _registered as _indexed
from blocks._block_base import check_slug as check_slug
from blocks._block_base import register as register
from blocks._block_base import slug_from_class_name as slug_from_class_name
from blocks.core import Block
from blocks.errors import UnknownBlockType

ENTRY_POINT_GROUP = "blocks.types"

BUILTIN_TYPES: dict[str, str] = {
    "secret": "blocks.types.system:Secret",
    "aws-credentials": "blocks.types.aws:AwsCredentials",
    "minio-credentials": "blocks.types.aws:MinIOCredentials",
    "s3-bucket": "blocks.types.s3:S3Bucket",
    "snowflake-credentials": "blocks.types.snowflake:SnowflakeCredentials",
    "snowflake-connector": "blocks.types.snowflake:SnowflakeConnector",
    "github-credentials": "blocks.types.github:GitHubCredentials",
    "github-repository": "blocks.types.github:GitHubRepository",
    "database-credentials": "blocks.types.database:DatabaseCredentials",
    "sqlalchemy-connector": "blocks.types.database:SqlAlchemyConnector",
}

_registered = cast("dict[str, type[Block]]", _indexed)
"""The index by slug (the same dict): only ``Block.__pydantic_init_subclass__`` adds to it, so
every class in it is a ``Block`` subclass."""
_entry_points_loaded = False


def get(slug: str) -> type[Block]:
    """The block class for ``slug``.

    Raises:
        UnknownBlockType: no built-in, subclass or plug-in has that slug.
    """
    cls = _registered.get(slug)
    if cls is not None:
        return cls
    target = BUILTIN_TYPES.get(slug)
    if target is not None:
        module, _, _attr = target.partition(":")
        importlib.import_module(module)
        return _registered[slug]
    _load_entry_points()
    cls = _registered.get(slug)
    if cls is None:
        known = ", ".join(sorted(set(BUILTIN_TYPES) | set(_registered)))
        raise UnknownBlockType(
            f"unknown block type {slug!r}; known types: {known}. A plug-in type must be "
            f"imported or published in the {ENTRY_POINT_GROUP!r} entry-point group"
        )
    return cls


def all_types() -> dict[str, type[Block]]:
    """Every known block type by slug: built-ins, imported subclasses and plug-ins."""
    for module in {t.partition(":")[0] for t in BUILTIN_TYPES.values()}:
        importlib.import_module(module)
    _load_entry_points()
    with _lock:
        return dict(sorted(_registered.items()))


def _load_entry_points() -> None:
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
    from importlib.metadata import entry_points  # slow to import; only needed on a miss

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()  # importing the class registers it through Block.__pydantic_init_subclass__
