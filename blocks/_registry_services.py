"""What a registry offers beside its blocks: presence, lookups by id, purge, and the parts
that sit beside or above it (pools, rotation, verify, key status) built over it.

A base class of :class:`blocks.registry.Registry` (split out to keep modules of one job); the
same methods are on :class:`blocks.remote.registry.RemoteRegistry` (the Registry protocol).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blocks import hooks
from blocks._registry_audit import AuditedAccess
from blocks._registry_stages import RegistryStages
from blocks.access.jwt_store import JwtStore
from blocks.access.store import AccessStore
from blocks.errors import BlockNotFound
from blocks.store import presence

if TYPE_CHECKING:
    from blocks.access.admin import AccessAdmin
    from blocks.access.jwt_store import JwtAdmin
    from blocks.pool_types.store import WorkPoolStore
    from blocks.reports import KeyStatus, Report
    from blocks.rotation_types.service import RotationService


class RegistryServices(RegistryStages):
    """Presence, ids, purge, pools, rotation, verify and key status of a local registry."""

    def exists(self) -> bool:
        """True when the registry exists (nothing is created); see ``blocks.store.presence``."""
        return presence.exists(self.store)

    def where(self) -> str:
        """Where the registry lives, for messages (the database, never its password)."""
        return presence.where(self.store, self.settings.home)

    @property
    def loads_on_loop(self) -> bool:
        """``aload`` may try the load on the event loop first (``blocks._nowait``): SQLite."""
        return self.store.dialect == "sqlite"

    def ref_by_id(self, block_id: str) -> str:
        """``slug/name`` of the block with id ``block_id``.

        Raises:
            BlockNotFound: no block has that id.
        """
        row = self.store.get_current_by_id(block_id)
        if row is None:
            raise BlockNotFound(f"no block with id {block_id}")
        return f"{row.type_slug}/{row.name}"

    def purge(self, ref: str, version: int) -> None:
        """Crypto-shred one earlier version of ``slug/name`` (see ``KeyManager.purge``)."""
        with self._recording("purge", ref, version=version):
            hooks.get(hooks.KEYS_MANAGER)(self).purge(ref, version)

    def pool_store(self) -> WorkPoolStore:
        """The work pools and queues kept in this registry's database."""
        # pools sit above the registry, on its store (their recipe API goes through it)
        found: WorkPoolStore = hooks.get(hooks.POOLS_STORE)(self)
        return found

    def rotation(self, actor: str | None = None) -> RotationService:
        """The rotation engine over this registry (policies, runs, events), acting as
        ``actor``; rotation sits above the registry, so a hook builds it
        (:class:`blocks.rotation.Rotation`)."""
        engine: RotationService = hooks.get(hooks.ROTATION_ENGINE)(self, actor)
        return engine

    def verify(self) -> Report:
        """Check every sealed record and stored version (``blocks verify``)."""
        with self._reading("verify", "*", kind="registry"):  # not one read per version
            report: Report = hooks.get(hooks.REGISTRY_VERIFY)(self)
            return report

    def keys_status(self) -> KeyStatus:
        """The master key, keyring terms and versions per term (``blocks keys status``)."""
        status: KeyStatus = hooks.get(hooks.KEYS_MANAGER)(self).status()
        return status

    def access(self) -> AccessAdmin:
        """The API tokens and access policies kept in this registry's database."""
        access: AccessAdmin = AuditedAccess(
            AccessStore(self.store, self.sealer), self.audit)
        return access

    def jwt_auth(self) -> JwtAdmin:
        """The trusted JWT issuers and roles kept in this registry's database."""
        return JwtStore(self.store, self.sealer)
