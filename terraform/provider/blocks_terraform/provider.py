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

CREATE_REGISTRY = "create_registry"
"""The one provider attribute that is not a ``Settings`` field."""


class BlocksProvider(Provider):
    """Declares blocks, work pools and work queues of a Blocks registry."""

    def __init__(self) -> None:
        self.runtime = Runtime()

    def prepare(self) -> None:
        """Import Blocks once, under a lock, before the first call that needs it."""
        self.runtime.import_blocks()

    def after_apply(self) -> None:
        """After each apply call: delete the retired blocks nothing refers to any more."""
        if self.runtime.retirements:
            self.runtime.retirements.settle(self.runtime.registry)

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
        attributes.append(Attribute(
            CREATE_REGISTRY, types.Bool(), optional=True,
            description="Create the registry (database schema, master key, keyring) when "
                        "there is none at `home` / `database_url`. Default: `false`: a "
                        "missing registry is an error (create it with `blocks init`), so a "
                        "mistyped location never silently starts an empty registry with a "
                        "new master key.",
        ))
        return Schema(
            attributes=attributes,
            version=SCHEMA_VERSION,
            description="Blocks registry connection: the registry itself (`home` or "
            "`database_url`, with its master key), or a blocks server (`api_url` and "
            "`api_token`: no database URL or master key on the machine that runs Terraform). "
            "Every setting is optional and defaults to the same environment variable the "
            "`blocks` CLI reads.",
        )

    def validate_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        """Check the known settings with the same rules as ``blocks.settings.Settings``."""
        known = {k: v for k, v in (config or {}).items()
                 if v is not None and is_known(v) and k != CREATE_REGISTRY}
        for attribute, message in Runtime.settings_errors(known):
            where = attribute if attribute in known else None
            source = "" if where else " (from the environment; set it in the provider block " \
                                      "or fix the variable)"
            diags.add_error(f"Invalid provider setting {attribute}",
                            f"{attribute}: {message}{source}",
                            path=[where] if where else None)

    def configure_provider(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        """Use the configured registry; refuse a missing one unless ``create_registry``."""
        config = config or {}
        known = {k: v for k, v in config.items()
                 if v is not None and is_known(v) and k != CREATE_REGISTRY}
        create = config.get(CREATE_REGISTRY)
        self.runtime = Runtime(known)
        if not is_known(create) or not all(is_known(v) for v in config.values()):
            return
        self.validate_config(diags, config)
        if diags.has_errors():
            return
        where = next((k for k in ("api_url", "database_url", "home") if k in known), None)
        try:
            missing = self.runtime.missing_registry()
            if missing is None:
                self.runtime.check_access()
                return
            if create:
                self.runtime.registry.init()
                return
        except Exception as exc:  # reported on the provider block, never a plugin crash
            self._unusable(diags, exc, where, server=bool(self.runtime.settings().api_url))
            return
        diags.add_error(
            "No Blocks registry",
            f"There is no Blocks registry at {missing}. Create it with `blocks init` (with "
            "the same BLOCKS_HOME / BLOCKS_DATABASE_URL), or set `create_registry = true` in "
            "the provider block to let Terraform create it; or fix the location.",
            path=[where] if where else None,
        )

    @staticmethod
    def _unusable(diags: Diagnostics, exc: Exception, where: str | None, *,
                  server: bool) -> None:
        """The registry cannot be opened: an unreachable database or blocks server, a token
        the server refuses, or a wrong master key."""
        name = type(exc).__name__
        blocks_error = any(c.__name__ == "BlocksError" for c in type(exc).__mro__)
        reason = str(exc) if blocks_error else f"{name} (no detail shown: it may hold data)"
        if name in ("DecryptionError", "KeyringError"):
            # No attribute path: Terraform would print the configured key's source line.
            diags.add_error(
                "Wrong Blocks master key",
                f"The registry's keyring does not open with the configured master key: "
                f"{reason}. Set master_key / master_key_file (or BLOCKS_MASTER_KEY) to the key "
                "this registry was created with.")
            return
        if server:
            diags.add_error(
                "Cannot use the blocks server",
                f"{reason}. Check that the server answers at api_url (or BLOCKS_API_URL) and "
                "that api_token (or BLOCKS_API_TOKEN) is a valid, unexpired token.",
                path=[where] if where else None)
            return
        diags.add_error(
            "Cannot open the Blocks registry",
            f"{reason}. Check that the database is reachable and that database_url (or "
            "BLOCKS_DATABASE_URL) is right.", path=[where] if where else None)

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
        from blocks_terraform.data_sources import (
            block,
            blocks,
            default_job_template,
            work_pool,
            work_pools,
        )

        return [
            block.BlockDataSource,
            blocks.BlocksDataSource,
            work_pool.WorkPoolDataSource,
            work_pools.WorkPoolsDataSource,
            default_job_template.DefaultJobTemplateDataSource,
        ]

    def get_ephemeral_resources(self) -> list[type[Any]]:
        """Ephemeral resources (Terraform >= 1.10): ``blocks_secret`` and one per typed block."""
        from blocks_terraform.ephemeral_resources import secret, typed

        return [secret.SecretEphemeralResource, *(
            typed.ephemeral_class(slug, spec)
            for slug, spec in self.specs["types"].items() if slug != "secret")]

    def get_functions(self) -> list[Any]:
        """Provider-defined functions (Terraform >= 1.8): ``placeholder`` and ``ref``."""
        from blocks_terraform.functions import FUNCTIONS

        return list(FUNCTIONS)
