"""The ``blocks`` provider: its configuration schema and its resources and data sources."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from tf import types
from tf.iface import DataSource, Provider
from tf.iface import Resource as TfResource
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform import schema_cache
from blocks_terraform.framework import SCHEMA_VERSION, is_known
from blocks_terraform.runtime import Runtime

SOURCE = "registry.terraform.io/blocks-registry/blocks"
"""The provider's source address (``blocks-registry/blocks`` in ``required_providers``)."""

KEY_PROVIDERS = ("local", "aws-kms", "vault-transit")


class BlocksProvider(Provider):
    """Declares blocks, work pools and work queues of a Blocks registry."""

    def __init__(self) -> None:
        self.runtime = Runtime()

    def prepare(self) -> None:
        """Import Blocks once, under a lock, before the first call that needs it."""
        self.runtime.import_blocks()

    def get_model_prefix(self) -> str:
        return "blocks_"

    def full_name(self) -> str:
        return SOURCE

    @cached_property
    def specs(self) -> dict[str, Any]:
        """Field specs of every block type and of the provider settings (cached on disk)."""
        return schema_cache.load()

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        attributes = [
            Attribute(
                spec["name"],
                types.Number() if spec["kind"] == "number" else types.String(),
                description=spec["description"],
                optional=True,
                sensitive=spec["sensitive"],
            )
            for spec in self.specs["provider"]
        ]
        return Schema(
            attributes=attributes,
            version=SCHEMA_VERSION,
            description="Blocks registry connection. Every setting is optional and defaults "
            "to the same `BLOCKS_*` environment variable the `blocks` CLI reads.",
        )

    def validate_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        provider = config.get("key_provider")
        if provider is not None and is_known(provider) and provider not in KEY_PROVIDERS:
            diags.add_error(
                "Invalid key_provider",
                f"key_provider must be one of {', '.join(KEY_PROVIDERS)}",
                path=["key_provider"],
            )

    def configure_provider(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        known = {k: v for k, v in (config or {}).items() if v is not None and is_known(v)}
        self.runtime = Runtime(known)

    def get_resources(self) -> list[type[TfResource]]:
        from blocks_terraform.resources import block, secret, typed, work_pool, work_queue

        generated = [
            typed.resource_class(slug, spec)
            for slug, spec in self.specs["types"].items()
            if slug != "secret"
        ]
        return [
            secret.SecretResource,
            block.BlockResource,
            work_pool.WorkPoolResource,
            work_queue.WorkQueueResource,
            *generated,
        ]

    def get_data_sources(self) -> list[type[DataSource]]:
        from blocks_terraform.data_sources import block, default_job_template, work_pool

        return [
            block.BlockDataSource,
            work_pool.WorkPoolDataSource,
            default_job_template.DefaultJobTemplateDataSource,
        ]

    def get_functions(self) -> list[Any]:
        return []
