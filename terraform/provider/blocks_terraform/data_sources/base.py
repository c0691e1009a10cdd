"""What every data source shares: the provider handle, its name, the schema frame, and checks.

A data source subclasses :class:`DataSource`, sets :attr:`DataSource.name` (the type name
without the ``blocks_`` prefix) and implements ``get_schema`` (with :meth:`make_schema`) and
``read``; ``validate`` checks nothing unless overridden (a bad name fails the read, naming
the rule).
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.framework import SCHEMA_VERSION, is_known


class DataSource:
    """Base of our data sources (``tf`` calls ``get_name``, ``get_schema``, ``validate``,
    ``read``)."""

    name: ClassVar[str]

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @staticmethod
    def make_schema(attributes: list[Attribute], *, description: str) -> Schema:
        """A schema with :data:`SCHEMA_VERSION`, as the resources have."""
        return Schema(version=SCHEMA_VERSION, description=description, attributes=attributes)

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Nothing to check before reading (a bad name fails the read, naming the rule)."""


def check_pool_type(diags: Diagnostics, config: dict[str, Any]) -> None:
    """``type``, when set and known, is one of the work-pool types."""
    from blocks_terraform.resources.work_pool import POOL_TYPES

    pool_type = config.get("type")
    if pool_type is not None and is_known(pool_type) and pool_type not in POOL_TYPES:
        diags.add_error("Invalid type", f"type must be one of {', '.join(POOL_TYPES)}",
                        path=["type"])
