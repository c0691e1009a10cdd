"""What CRUD calls share: the registry built from the provider config, fingerprints, errors.

Everything here imports Blocks (and so pydantic and SQLAlchemy) lazily: schema-only calls
never reach it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import threading
from typing import TYPE_CHECKING, Any

from tf.utils import Diagnostics

from blocks_terraform.resources.retire import Retirements

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol
    from blocks.settings import Settings

MASK = "********"
"""What a secret value in state becomes when the stored value changed outside Terraform.

The new value itself never enters state; the plan shows a (sensitive) change and apply writes
the configured value back.
"""

FINGERPRINT_KEY_BLOCK = "secret/terraform-fingerprint-key"
"""The block holding the HMAC key of secret fingerprints (created on first use)."""


_import_lock = threading.Lock()
_imported = False


def import_blocks() -> None:
    """Import the Blocks modules CRUD calls use, once per process and from one thread.

    gRPC serves calls on a thread pool; two threads importing ``blocks`` for the first time
    at once can see a partially initialised module.
    """
    global _imported
    if _imported:
        return
    with _import_lock:
        if not _imported:
            import importlib

            from blocks import catalog

            # The built-in types, not catalog.all_types(): scanning entry points costs ~50 ms
            # and happens anyway, on first use, for a slug that is not built in.
            modules = {"blocks.registry", "blocks.codec", "blocks.pools"}
            modules |= {target.partition(":")[0] for target in catalog.BUILTIN_TYPES.values()}
            for module in sorted(modules):
                importlib.import_module(module)
            # Rotation and mirrors, which saves and reads reach through hooks: their first
            # imports from two gRPC threads at once deadlocked (the rotation package and its
            # submodules import each other).
            from blocks._wiring import preload

            preload()
            _imported = True


class Runtime:
    """The registry and helpers of one configured provider process.

    Args:
        config: provider configuration; ``None`` values fall back to the ``BLOCKS_*``
            environment, exactly as for the CLI.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = {k: v for k, v in (config or {}).items() if v is not None}
        self._registry: RegistryProtocol | None = None
        self._fingerprint_key: bytes | None = None
        self._lock = threading.Lock()
        self.retirements = Retirements()
        self.planned_pools: set[str] = set()
        """Pools this process planned to create or rename to (queues may name them)."""

    import_blocks = staticmethod(import_blocks)

    def settings(self) -> Settings:
        """Settings from the provider config over the environment."""
        from blocks.settings import Settings

        return Settings(**self.config)

    @staticmethod
    def settings_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
        """``(setting, message)`` for each provider setting (or variable) ``Settings`` refuses."""
        from blocks.errors import ConfigurationError
        from blocks.settings import Settings

        try:
            Settings(**config)
        except ConfigurationError as exc:
            errors = [(name or "provider", message) for name, message in exc.field_errors]
            if all(name == "provider" for name, _ in errors) and _valid(
                    {**config, "api_url": None}):
                # Valid but for the server URL: it and a database URL are both set.
                return [(API_URL, API_URL_AND_DATABASE)]
            return errors or [("provider", str(exc))]
        return []

    def missing_registry(self) -> str | None:
        """Where the registry should be, when it is not there (nothing is created by looking:
        see ``exists()`` of the registry protocol; a blocks server's registry exists, and
        :meth:`check_access` asks it whether it accepts the token)."""
        registry = self.registry
        return None if registry.exists() else registry.where()

    def check_access(self) -> None:
        """Fail here, at configure, rather than in every resource at apply: a wrong master key
        raises ``DecryptionError`` (a local registry opens its keyring), a token a blocks
        server refuses ``Unauthorized`` (the server holds the key: no keyring here)."""
        from blocks.errors import BlockNotFound, Forbidden

        keyring = getattr(self.registry, "keyring", None)
        if keyring is not None:
            _ = keyring.current_term
        # The key is made on first use; a token may not need it (data sources only).
        with contextlib.suppress(BlockNotFound, Forbidden):
            self.registry.summary(FINGERPRINT_KEY_BLOCK)

    @property
    def registry(self) -> RegistryProtocol:
        """The registry the settings describe (``open_registry``: a local one, or a blocks
        server's when ``api_url`` is set), opened on first use."""
        if self._registry is None:
            with self._lock:
                if self._registry is None:
                    from blocks.registry_protocol import open_registry

                    self._registry = open_registry(self.settings())
        return self._registry

    def fingerprint(self, value: Any) -> str:
        """Keyed fingerprint of a secret value: HMAC-SHA256 under a key kept in the registry.

        The key is itself an encrypted block, so a fingerprint in state cannot be checked
        against guesses by anyone who cannot read the registry.
        """
        data = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        digest = hmac.new(self._key(), data.encode(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def _key(self) -> bytes:
        if self._fingerprint_key is None:
            from blocks.errors import BlockNotFound, ConflictError
            from blocks.types.system import Secret

            ref = FINGERPRINT_KEY_BLOCK
            try:
                key = Secret.load(ref, registry=self.registry).get()
            except BlockNotFound:
                fresh = secrets.token_hex(32)
                try:
                    Secret(value=fresh).save(
                        FINGERPRINT_KEY_BLOCK.split("/")[1], expected_version=0,
                        registry=self.registry,
                    )
                    key = fresh
                except ConflictError:  # another process created it first
                    key = Secret.load(ref, registry=self.registry).get()
            self._fingerprint_key = bytes.fromhex(str(key))
        return self._fingerprint_key


API_URL = "api_url"
API_URL_AND_DATABASE = (
    "api_url and database_url are both set (in the provider block, or as BLOCKS_API_URL and "
    "BLOCKS_DATABASE_URL): the provider reaches the registry either through a blocks server "
    "(api_url with api_token) or directly (database_url with the master key); remove one")


def _valid(config: dict[str, Any]) -> bool:
    from blocks.errors import ConfigurationError
    from blocks.settings import Settings

    try:
        Settings(**config)
    except ConfigurationError:
        return False
    return True


def report_blocks_error(
    diags: Diagnostics, exc: Exception, attributes: set[str] | None = None,
    prefix: str = "",
) -> None:
    """Add diagnostics for a Blocks error, pointing validation errors at their attribute.

    Args:
        diags: where to add them.
        exc: the error (messages name blocks and field paths, never secret values).
        attributes: top-level attribute names of the resource; a field path whose first part
            is one of them is reported on that attribute.
        prefix: attribute path to put in front (for errors inside a JSON attribute).
    """
    from blocks.errors import ValidationError

    if isinstance(exc, ValidationError):
        for path, message in exc.errors:
            full = f"{prefix}.{path}" if prefix and path else (prefix or path)
            head = full.split(".")[0] if full else ""
            where = [head] if attributes and head in attributes else None
            detail = f"{full}: {message}" if full else message
            diags.add_error(f"Invalid value for {full or 'the block'}", detail, path=where)
        return
    diags.add_error(f"blocks: {type(exc).__name__}", str(exc))


def is_not_found(exc: Exception) -> bool:
    """Whether ``exc`` means the block or pool does not exist."""
    from blocks.errors import BlockNotFound

    return isinstance(exc, BlockNotFound | LookupError)
