"""What every ephemeral resource shares: which version to read, the schema frame, and errors.

An ephemeral resource names a block (``name``) and reads its current version, a given
``version``, or the version a rotation ``stage`` points at; ``version`` in the result is the
version read. Blocks is only imported by ``open`` (validation stays light).
"""

from __future__ import annotations

from typing import Any, ClassVar

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from blocks_terraform.ephemeral import EPHEMERAL_SINCE
from blocks_terraform.framework import SCHEMA_VERSION, is_known, report_exception

STAGES = ("current", "pending", "previous")
"""Rotation stages a block version can carry (``blocks.registry.STAGES``)."""

NOT_STORED = (f"Ephemeral (Terraform >= {EPHEMERAL_SINCE}): read from the registry whenever "
              "Terraform needs it (plan and apply) and never written to plan or state; use it "
              "in provider settings, write-only (`*_wo`) attributes, ephemeral variables and "
              "outputs.")


def selector_attributes(slug: str) -> list[Attribute]:
    """``name``, ``version``, ``stage`` and ``id``."""
    return [
        Attribute("name", types.String(), required=True,
                  description=f"Name of the `{slug}` block to read."),
        Attribute("version", types.Number(), optional=True, computed=True,
                  description="Version to read (a whole number from 1). Default: the current "
                              "version (or the one `stage` points at). In the result: the "
                              "version read."),
        Attribute("stage", types.String(), optional=True,
                  description="Read the version a rotation stage points at: one of "
                              f"{', '.join(f'`{s}`' for s in STAGES)}. Conflicts with "
                              "`version`. Default: `current`."),
        Attribute("id", types.String(), computed=True,
                  description=f"`{slug}/<name>`: the block read."),
    ]


class EphemeralResource:
    """Base of the ephemeral resources; subclasses set :attr:`slug` and implement
    :meth:`values` (and :meth:`get_schema`)."""

    slug: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.slug.replace("-", "_")

    @classmethod
    def attributes(cls) -> list[Attribute]:
        """The attributes after the selector ones."""
        raise NotImplementedError

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(version=SCHEMA_VERSION, description=f"{cls.description} {NOT_STORED}",
                      attributes=selector_attributes(cls.slug) + cls.attributes())

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """``version`` is a whole number from 1, ``stage`` a stage, not both."""
        version, stage = config.get("version"), config.get("stage")
        if version is not None and is_known(version) and (
                version != int(version) or version < 1):
            diags.add_error("Invalid version",
                            f"version must be a whole number from 1, got {version}",
                            path=["version"])
        if stage is not None and is_known(stage) and stage not in STAGES:
            diags.add_error("Invalid stage",
                            f"stage must be one of {', '.join(STAGES)}, got {stage!r}",
                            path=["stage"])
        if version is not None and stage is not None:
            diags.add_error("Conflicting version and stage",
                            "set version (a version number) or stage (a rotation stage), "
                            "not both", path=["stage"])

    def open(self, diags: Diagnostics, config: dict[str, Any]) -> dict[str, Any] | None:
        """The result: the selector attributes and :meth:`values`; ``None`` on error."""
        ref = f"{self.slug}/{config['name']}"
        version = config.get("version")
        try:
            block = self.provider.runtime.registry.load(
                ref, version=int(version) if version is not None else None,
                stage=config.get("stage"))
            return {**config, "id": ref, "version": block.block_version,
                    **self.values(block)}
        except Exception as exc:  # reported, never raised: a raise shows as a plugin crash
            report_exception(diags, exc, path=["name"])
            return None

    def values(self, block: Any) -> dict[str, Any]:
        """The block's field values by attribute name."""
        raise NotImplementedError
