"""Blocks: a typed, encrypted registry of credentials and connection configs.

Example:
    >>> from blocks import S3Bucket                                    # doctest: +SKIP
    >>> S3Bucket.load("data-lake").read_path("raw/2026/11/21.csv")      # doctest: +SKIP

Built-in block types are imported on first access so that ``import blocks`` stays fast and never
imports boto3, hvac or the Terraform framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from blocks import _wiring
from blocks.core import NAME_RULE, Block, SecretDict
from blocks.errors import (
    BlockAlreadyExists,
    BlockNotFound,
    BlockNotSaved,
    BlocksError,
    ConfigurationError,
    ConflictError,
    DecryptionError,
    GitError,
    IntegrityError,
    InvalidArgument,
    InvalidName,
    KeyProviderError,
    KeyringError,
    MissingExtraError,
    ReferencedBlockError,
    RegistryLockedError,
    RegistryNotFound,
    StoreError,
    UnknownBlockType,
    ValidationError,
    WorkPoolNotFound,
    WorkQueueNotFound,
)
from blocks.registry import BlockSummary, Registry, VersionInfo
from blocks.settings import Settings

if TYPE_CHECKING:
    from blocks.pools import WorkPool, WorkQueue
    from blocks.types.async_database import AsyncSqlAlchemyConnector
    from blocks.types.aws import AwsCredentials, MinIOCredentials
    from blocks.types.database import DatabaseCredentials, SqlAlchemyConnector
    from blocks.types.github import GitHubCredentials, GitHubRepository
    from blocks.types.s3 import S3Bucket
    from blocks.types.snowflake import SnowflakeConnector, SnowflakeCredentials
    from blocks.types.system import Secret

__version__ = "0.1.0"

_wiring.install()

_LAZY = {
    "Secret": "blocks.types.system",
    "AwsCredentials": "blocks.types.aws",
    "MinIOCredentials": "blocks.types.aws",
    "S3Bucket": "blocks.types.s3",
    "SnowflakeCredentials": "blocks.types.snowflake",
    "SnowflakeConnector": "blocks.types.snowflake",
    "GitHubCredentials": "blocks.types.github",
    "GitHubRepository": "blocks.types.github",
    "DatabaseCredentials": "blocks.types.database",
    "SqlAlchemyConnector": "blocks.types.database",
    "AsyncSqlAlchemyConnector": "blocks.types.async_database",
    "WorkPool": "blocks.pools",
    "WorkQueue": "blocks.pools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'blocks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "NAME_RULE",
    "AsyncSqlAlchemyConnector",
    "AwsCredentials",
    "Block",
    "BlockAlreadyExists",
    "BlockNotFound",
    "BlockNotSaved",
    "BlockSummary",
    "BlocksError",
    "ConfigurationError",
    "ConflictError",
    "DatabaseCredentials",
    "DecryptionError",
    "GitError",
    "GitHubCredentials",
    "GitHubRepository",
    "IntegrityError",
    "InvalidArgument",
    "InvalidName",
    "KeyProviderError",
    "KeyringError",
    "MinIOCredentials",
    "MissingExtraError",
    "ReferencedBlockError",
    "Registry",
    "RegistryLockedError",
    "RegistryNotFound",
    "S3Bucket",
    "Secret",
    "SecretDict",
    "Settings",
    "SnowflakeConnector",
    "SnowflakeCredentials",
    "SqlAlchemyConnector",
    "StoreError",
    "UnknownBlockType",
    "ValidationError",
    "VersionInfo",
    "WorkPool",
    "WorkPoolNotFound",
    "WorkQueue",
    "WorkQueueNotFound",
]
