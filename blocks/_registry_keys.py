"""The registry's keys: the keyring built on first use, the sealer, and ``init``.

A base class of :class:`blocks.registry.Registry` (split out to keep modules of one job); it
holds no state of its own beyond what ``Registry.__init__`` sets.
"""

from __future__ import annotations

import contextlib
import os
import threading

from blocks import _nowait
from blocks.crypto import envelope
from blocks.crypto.keyring import Keyring
from blocks.errors import RegistryNotFound
from blocks.keys.base import KeyProvider
from blocks.sealed_refs import seal_upgraded
from blocks.settings import Settings
from blocks.store import presence, rotation_seals
from blocks.store.engine import is_sqlite, sqlite_path
from blocks.store.sealing import KeyringSealer, has_refs_marker, has_unsealed_marker, seal_unsealed
from blocks.store.sql import SqlStore


class RegistryKeys:
    """Keyring, sealer and registry creation of a :class:`~blocks.registry.Registry`."""

    settings: Settings
    store: SqlStore
    _provider: KeyProvider | None
    _keyring: Keyring | None
    _lock: threading.Lock
    _rng: envelope.Rng
    _found: bool

    @property
    def keyring(self) -> Keyring:
        """The keyring (its provider is built, and a local key file created, on first use)."""
        if self._keyring is None:
            _nowait.check()  # builds the key provider (a client of KMS or Vault)
            with self._lock:
                if self._keyring is None:
                    provider = self._provider
                    fresh = not (self._found or presence.exists(self.store))
                    if provider is None:
                        from blocks.keys.factory import provider_from_settings

                        provider = provider_from_settings(self.settings, create=fresh)
                    if fresh:
                        # A new registry: an unreachable or refusing master key fails here,
                        # before the database (or its schema) is created.
                        provider.check()
                    keyring = Keyring(
                        provider, self.store,
                        cache_seconds=self.settings.keyring_cache_seconds, rng=self._rng,
                    )
                    sealer = KeyringSealer(keyring)
                    self.store.ensure_schema()
                    if has_unsealed_marker(self.store):
                        seal_unsealed(self.store, sealer)
                    if rotation_seals.has_marker(self.store):
                        rotation_seals.seal_unsealed_rotation(self.store, sealer)
                    if has_refs_marker(self.store):
                        seal_upgraded(self.store, sealer)
                    self.store.sealer = sealer
                    self._keyring = keyring
        return self._keyring

    def _require_registry(self) -> None:
        """Reads never create a registry: a mistyped ``BLOCKS_HOME`` or ``BLOCKS_DATABASE_URL``
        is :class:`RegistryNotFound`, not an empty registry with a new master key (the rule of
        the CLI's read-only commands and of the Terraform provider)."""
        if self._found:
            return
        if not presence.exists(self.store):
            raise RegistryNotFound(
                f"no registry at {presence.where(self.store, self.settings.home)}; create one "
                "with 'blocks init' or Registry().init() (the first save creates one too), or "
                "point BLOCKS_HOME or BLOCKS_DATABASE_URL at an existing one"
            )
        self._found = True

    def _existing(self) -> Keyring:
        """The keyring of a registry that must already exist (read paths)."""
        if self._keyring is None:
            self._require_registry()
        return self.keyring

    @property
    def sealer(self) -> KeyringSealer:
        """MACs and checks the authenticated records (block heads, pools, queues)."""
        _ = self.keyring
        assert self.store.sealer is not None
        return self.store.sealer  # type: ignore[return-value]

    def init(self) -> None:
        """Create the database schema, the master key (local provider) and the first term.

        The master key is checked first; if creating the registry fails anyway, a SQLite
        database this call created is removed, so a failed ``init`` leaves no ``blocks.db``.
        """
        url = self.store.url
        created = is_sqlite(url) and not os.path.exists(sqlite_path(url))
        key_file = self.settings.resolved_master_key_file
        new_key = (created and self._provider is None and self.settings.key_provider == "local"
                   and self.settings.master_key is None and not key_file.exists())
        try:
            _ = self.keyring.current_term
        except BaseException:
            if created:  # nothing was ever wrapped under a key file made by this call
                self.store.close()
                self._keyring = None
                leftovers = [sqlite_path(url) + s for s in ("", "-wal", "-shm", "-journal")]
                for path in leftovers + ([str(key_file)] if new_key else []):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(path)
            raise
        self._found = True
