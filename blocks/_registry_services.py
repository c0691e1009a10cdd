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
from blocks.errors import BlockNotFound
from blocks.store import presence

if TYPE_CHECKING:
    from blocks.access.admin import AccessAdmin
    from blocks.key_management import KeyStatus
    from blocks.pools.store_protocol import LocalPoolStore
    from blocks.registry import Registry
    from blocks.rotation.engine import Rotation
    from blocks.verify import Report


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
        from blocks.key_management import KeyManager  # it builds on this module

        with self._recording("purge", ref, version=version):
            KeyManager(self._registry()).purge(ref, version)

    def pool_store(self) -> LocalPoolStore:
        """The work pools and queues kept in this registry's database."""
        # pools sit beside the registry, on its store (and import it: hence here)
        from blocks.pools.audited import AuditedPoolStore

        return AuditedPoolStore(lambda: self.store.engine, lambda: self.sealer,
                                registry=self._registry(), recording=self.audit.recording)

    def rotation(self, actor: str | None = None) -> Rotation:
        """The rotation engine over this registry (policies, runs, events), acting as
        ``actor``; rotation sits above the registry, so a hook builds it."""
        engine: Rotation = hooks.get(hooks.ROTATION_ENGINE)(self, actor)
        return engine

    def verify(self) -> Report:
        """Check every sealed record and stored version (``blocks verify``)."""
        from blocks.verify import verify  # it builds on this module

        with self._reading("verify", "*", kind="registry"):  # not one read per version
            return verify(self._registry())

    def keys_status(self) -> KeyStatus:
        """The master key, keyring terms and versions per term (``blocks keys status``)."""
        from blocks.key_management import KeyManager  # it builds on this module

        return KeyManager(self._registry()).status()

    def access(self) -> AccessAdmin:
        """The API tokens and access policies kept in this registry's database."""
        from blocks.access.store import AccessStore  # it builds on the store and the keyring

        access: AccessAdmin = AuditedAccess(
            AccessStore(self.store, self.sealer), self.audit)
        return access

    def _registry(self) -> Registry:
        from blocks.registry import Registry  # the subclass this base is part of

        assert isinstance(self, Registry)
        return self
