"""The ``vault-kv`` rotator: a generated secret mirrored to a Vault (or OpenBao) KV v2 path.

create: a new value (as ``generated``) and the KV version it will replace; set: written with
check-and-set on that version (a concurrent writer makes the step fail instead of being
overwritten; a re-run finds its own write and stops); test: the latest KV version holds the
new value; revoke: the KV version that held the previous value is destroyed; cancel: the
current value is written back if the pending one was.

The Vault address and token come from ``VAULT_ADDR``/``VAULT_TOKEN`` (blocks settings) unless
``options.address`` and ``options.token_block`` (a ``secret`` block holding a token) are given.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from blocks.core import Block, split_ref
from blocks.errors import ConfigurationError, RotationError, ValidationError
from blocks.rotation.base import RotationContext, field_names, get_path, with_value
from blocks.rotation.generated import PasswordPolicy, secret_text, target_field
from blocks.types._rules import import_extra


class VaultKvOptions(BaseModel):
    """Options of ``vault-kv``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="KV v2 path, e.g. apps/web/db.")
    mount: str = Field(default="secret", description="KV v2 mount point (default secret).")
    key: str = Field(default="value", description="Key within the KV data (default value).")
    field: str | None = Field(
        default=None, description="Block secret field mirrored; default 'value' for a Secret."
    )
    address: str | None = Field(default=None, description="Vault address; default VAULT_ADDR.")
    token_block: str | None = Field(
        default=None, description="secret block (slug/name) holding a Vault token; default "
        "VAULT_TOKEN."
    )
    password: PasswordPolicy = Field(
        default_factory=PasswordPolicy, description="How new values look."
    )


class VaultKvRotator:
    """A generated value, kept in step with a KV v2 secret by check-and-set writes."""

    name: ClassVar[str] = "vault-kv"
    options_model: ClassVar[type[BaseModel]] = VaultKvOptions

    def fields(self, block_type: type[Block], options: BaseModel) -> tuple[str, ...]:
        """The mirrored field (dot path)."""
        assert isinstance(options, VaultKvOptions)
        return (field_names(target_field(block_type, options.field), block_type),)

    def check(self, block_type: type[Block], options: BaseModel) -> None:
        assert isinstance(options, VaultKvOptions)
        target_field(block_type, options.field)
        if options.token_block is not None and split_ref(options.token_block)[0] != "secret":
            raise ValidationError(f"rotation of {block_type.block_type_slug}",
                                  [("options.token_block", "must name a secret block")])

    def _options(self, ctx: RotationContext) -> VaultKvOptions:
        assert isinstance(ctx.options, VaultKvOptions)
        return ctx.options

    def _kv(self, ctx: RotationContext) -> Any:
        hvac = import_extra("hvac", package="hvac", extra="vault", purpose="vault-kv rotation")
        options, settings = self._options(ctx), ctx.registry.settings
        address = options.address or settings.vault_addr
        if options.token_block is not None:
            token = secret_text(ctx.registry.load(options.token_block).value)  # type: ignore[attr-defined]
        else:
            token = settings.vault_token.get_secret_value() if settings.vault_token else None
        if not address or not token:
            raise ConfigurationError(
                f"{ctx.ref}: vault-kv needs a Vault address and token: set VAULT_ADDR and "
                "VAULT_TOKEN, or options.address and options.token_block"
            )
        client = hvac.Client(url=address, token=token, namespace=settings.vault_namespace)
        return client.secrets.kv.v2

    def _field(self, ctx: RotationContext) -> str:
        return field_names(target_field(type(ctx.current), self._options(ctx).field),
                           type(ctx.current))

    def _value(self, ctx: RotationContext, block: Block) -> str | None:
        return secret_text(get_path(block, self._field(ctx)))

    def _latest(self, ctx: RotationContext) -> tuple[int, dict[str, Any]]:
        """``(version, data)`` of the path's latest version; ``(0, {})`` if it has none."""
        hvac = import_extra("hvac", package="hvac", extra="vault", purpose="vault-kv rotation")
        options = self._options(ctx)
        try:
            read = self._kv(ctx).read_secret_version(
                path=options.path, mount_point=options.mount, raise_on_deleted_version=False)
        except hvac.exceptions.InvalidPath:
            return 0, {}
        data = read["data"]
        return int(data["metadata"]["version"]), dict(data.get("data") or {})

    def create(self, ctx: RotationContext) -> Block:
        ctx.state["replaces_kv_version"] = self._latest(ctx)[0]
        return with_value(ctx.current, self._field(ctx), self._options(ctx).password.generate())

    def set(self, ctx: RotationContext) -> None:
        options = self._options(ctx)
        new = self._value(ctx, ctx.require_pending())
        version, data = self._latest(ctx)
        if data.get(options.key) == new:
            ctx.state["written_kv_version"] = version
            return  # written before an interruption
        expected = ctx.state.get("replaces_kv_version")
        if version != expected:
            raise RotationError(ctx.ref, "set", f"{options.mount}/{options.path} is at version "
                                f"{version}, not {expected}: someone else wrote it; cancel and "
                                "rotate again")
        written = self._kv(ctx).create_or_update_secret(
            path=options.path, mount_point=options.mount, cas=version,
            secret={**data, options.key: new})
        ctx.state["written_kv_version"] = int(written["data"]["version"])

    def test(self, ctx: RotationContext) -> None:
        options = self._options(ctx)
        _version, data = self._latest(ctx)
        if data.get(options.key) != self._value(ctx, ctx.require_pending()):
            raise RotationError(ctx.ref, "test", f"the latest version of {options.mount}/"
                                f"{options.path} does not hold the new value")

    def revoke(self, ctx: RotationContext) -> None:
        options = self._options(ctx)
        old = ctx.state.get("replaces_kv_version")
        if isinstance(old, int) and old > 0 and old != self._latest(ctx)[0]:
            self._kv(ctx).destroy_secret_versions(
                path=options.path, versions=[old], mount_point=options.mount)

    def cancel(self, ctx: RotationContext) -> None:
        options = self._options(ctx)
        version, data = self._latest(ctx)
        if data.get(options.key) == self._value(ctx, ctx.require_pending()):
            self._kv(ctx).create_or_update_secret(
                path=options.path, mount_point=options.mount, cas=version,
                secret={**data, options.key: self._value(ctx, ctx.current)})
