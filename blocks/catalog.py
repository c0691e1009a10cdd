"""The catalog of block types: built-ins, user subclasses and entry-point plug-ins.

Built-in types are imported on first use, and the ``blocks.types`` entry-point group is read
only when a slug is not found otherwise, so ``import blocks`` stays fast.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import TYPE_CHECKING

from blocks.errors import UnknownBlockType

if TYPE_CHECKING:
    from blocks.core import Block

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

_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_lock = threading.RLock()
_registered: dict[str, type[Block]] = {}
_entry_points_loaded = False


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


def register(cls: type[Block]) -> None:
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


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
