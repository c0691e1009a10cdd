"""The Registry protocol, and the one place that picks its implementation from settings.

Two implementations: :class:`blocks.registry.Registry` (the database and the master key in
this process) and :class:`blocks.remote.registry.RemoteRegistry` (a ``blocks server`` over
HTTP, ``BLOCKS_API_URL``). ``Block``, pools, rotation and the CLI talk to this protocol;
:func:`open_registry` is the only code that chooses between them.

Example:
    >>> from blocks.registry_protocol import open_registry
    >>> registry = open_registry()      # BLOCKS_API_URL set: a RemoteRegistry   # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from blocks import hooks
from blocks._block_base import set_registry_factory
from blocks.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime, timedelta

    from blocks._registry_recovery import RecoveryWindow
    from blocks.access.admin import AccessAdmin
    from blocks.access.jwt_store import JwtAdmin
    from blocks.audit_trail import AuditReport, ReadCount
    from blocks.core import Block
    from blocks.pool_types.store import WorkPoolStore
    from blocks.reports import KeyStatus, Report
    from blocks.rotation_types.service import RotationService
    from blocks.store.audit_log import AuditEntry
    from blocks.store.records import BlockSummary, DeletedBlock, GcResult, VersionInfo

Stage = Literal["current", "pending", "previous"]


@runtime_checkable
class RegistryProtocol(Protocol):
    """What every registry offers (see :class:`blocks.registry.Registry` for each method)."""

    settings: Settings

    def save(
        self,
        block: Block,
        name: str,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
        stage: Literal["pending"] | None = None,
    ) -> VersionInfo: ...

    def load(
        self,
        ref: str,
        *,
        version: int | None = None,
        stage: Stage | None = None,
        validate: bool = True,
    ) -> Block: ...

    def delete(self, ref: str, *, recovery_window: RecoveryWindow = None) -> None:
        """Delete ``slug/name``: into its recovery window (default: the registry's setting),
        or shredded at once with 0."""
        ...

    def recovery_window(self, value: RecoveryWindow = None) -> timedelta:
        """The window a delete with ``recovery_window=value`` uses (raises InvalidArgument)."""
        ...

    def deleted(self, slug: str | None = None) -> builtins.list[DeletedBlock]:
        """The deleted blocks in their recovery window (of one type, or all)."""
        ...

    def deleted_refs(self) -> builtins.list[str]:
        """The names of the deleted blocks in their window (tab completion)."""
        ...

    def undelete(self, ref: str) -> BlockSummary:
        """Bring back ``slug/name`` deleted within its recovery window."""
        ...

    def gc(self, *, dry_run: bool = False) -> GcResult:
        """Shred the deleted blocks whose window has passed (``dry_run``: only list them)."""
        ...

    def rename(
        self, ref: str, new_name: str, *, expected_version: int | None = None
    ) -> BlockSummary: ...

    def list(self, slug: str | None = None) -> builtins.list[BlockSummary]: ...

    def summary(self, ref: str) -> BlockSummary: ...

    def ref_by_id(self, block_id: str) -> str:
        """``slug/name`` of the block with id ``block_id`` (raises BlockNotFound)."""
        ...

    def history(self, ref: str) -> builtins.list[VersionInfo]: ...

    def rollback(
        self, ref: str, version: int, *, expected_version: int | None = None
    ) -> VersionInfo: ...

    def purge(self, ref: str, version: int) -> None: ...

    def parse(self, slug: str, data: Mapping[str, Any], *, ref: str = "") -> Block: ...

    def stages(self, ref: str) -> dict[str, int]: ...

    def move_stages(
        self,
        ref: str,
        *,
        expected_current: int,
        current: int | None = None,
        pending: int | Literal["keep"] | None = "keep",
        previous: int | Literal["keep"] | None = "keep",
    ) -> None: ...

    def init(self) -> None: ...

    def exists(self) -> bool:
        """True when there is a registry to read (a read creates none)."""
        ...

    def where(self) -> str:
        """Where the registry is, for messages (never a password or token)."""
        ...

    @property
    def loads_on_loop(self) -> bool:
        """``aload`` may try a load on the event loop first (it hands the load to a worker
        thread when a step would wait, see ``blocks._nowait``)."""
        ...

    def close(self) -> None: ...

    def pool_store(self) -> WorkPoolStore:
        """The work pools and queues of this registry."""
        ...

    def rotation(self, actor: str | None = None) -> RotationService:
        """Rotation policies, runs and events of this registry, acting as ``actor``."""
        ...

    def verify(self) -> Report:
        """Check every sealed record and stored version (``blocks verify``)."""
        ...

    def keys_status(self) -> KeyStatus:
        """The master key, keyring terms and versions per term (``blocks keys status``)."""
        ...

    def access(self) -> AccessAdmin:
        """The API tokens and access policies of ``blocks server`` (``blocks tokens``)."""
        ...

    @property
    def audit(self) -> AuditService:
        """The audit trail (``blocks audit``): record, ls, who_read, verify, prune, hash."""
        ...

    def jwt_auth(self) -> JwtAdmin:
        """The trusted JWT issuers and roles of ``blocks server`` (``blocks auth jwt``)."""
        ...


class AuditService(Protocol):
    """``registry.audit``: the audit trail, local (:class:`blocks.audit_trail.AuditTrail`) or
    through a blocks server (:class:`blocks.remote.audit.RemoteAudit`)."""

    reads: bool

    def record(self, action: str, *, kind: str = "blocks", obj: str,
               outcome: str = "allowed", error: str | None = None, version: int | None = None,
               stage: str | None = None, detail: Mapping[str, Any] | None = None,
               pool: str | None = None) -> None: ...

    def ls(self, ref: str | None = None, actor: str | None = None,
           since: datetime | str | None = None, action: str | None = None,
           denied: bool = False, limit: int | None = None, *,
           oldest_first: bool = False, cursor: int | None = None) -> Iterator[AuditEntry]: ...

    def who_read(self, ref: str, since: datetime | str | None = None
                 ) -> builtins.list[ReadCount]: ...

    def verify(self) -> AuditReport: ...

    def prune(self, before: datetime | str) -> int: ...

    def hash(self, value: bytes) -> str: ...


def open_registry(settings: Settings | None = None) -> RegistryProtocol:
    """The registry ``settings`` describe: a :class:`~blocks.remote.registry.RemoteRegistry`
    when ``api_url`` is set (``BLOCKS_API_URL``), else a local
    :class:`~blocks.registry.Registry`. Both sit above this module: each is built by the hook
    ``import blocks`` registers (:data:`blocks.hooks.REGISTRY_REMOTE`,
    :data:`blocks.hooks.REGISTRY_LOCAL`), so a process with a local registry never loads the
    HTTP client.

    Raises:
        ConfigurationError: the settings are invalid (e.g. ``BLOCKS_API_URL`` together with
            ``BLOCKS_DATABASE_URL``).
    """
    settings = settings if settings is not None else Settings()
    build = hooks.get(hooks.REGISTRY_REMOTE if settings.api_url else hooks.REGISTRY_LOCAL)
    registry: RegistryProtocol = build(settings)
    return registry


_default: RegistryProtocol | None = None
_default_lock = threading.Lock()


def default_registry() -> RegistryProtocol:
    """The process-wide registry built from the environment on first use
    (:func:`open_registry`): what ``Block.save``/``load``/... use without ``registry=``."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = open_registry()
    return _default


def reset_default_registry() -> None:
    """Forget the process-wide registry (after changing ``BLOCKS_*`` variables)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None


set_registry_factory(default_registry)
