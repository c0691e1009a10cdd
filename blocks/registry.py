"""The Registry: save / load / delete / list / history / rollback. The one entry point.

Example:
    >>> from blocks import Registry, Secret
    >>> registry = Registry()                      # BLOCKS_* settings, embedded SQLite by default
    >>> Secret(value="s3cr3t").save("api-token", registry=registry)   # doctest: +SKIP
    >>> registry.load("secret/api-token").get()                       # doctest: +SKIP
    's3cr3t'
"""

from __future__ import annotations

import builtins
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from blocks import catalog, codec, hooks
from blocks._registry_recovery import RecoveryWindow, RegistryRecovery
from blocks._registry_services import RegistryServices
from blocks._registry_stages import STAGES as STAGES
from blocks._registry_stages import Stage as Stage
from blocks._saving import prepare_save
from blocks.core import (
    Block,
    split_ref,
    validate_name,
)
from blocks.crypto import envelope
from blocks.crypto.keyring import Keyring
from blocks.errors import (
    BlockNotFound,
    ConfigurationError,
    ConflictError,
    IntegrityError,
    ReferencedBlockError,
)
from blocks.keys.base import KeyProvider
from blocks.parsing import parse
from blocks.references import check_references
from blocks.registry_protocol import RegistryProtocol, default_registry, reset_default_registry
from blocks.sealed_refs import document_referrers
from blocks.settings import Settings
from blocks.store.deletion import schedule_block
from blocks.store.generation import Memo
from blocks.store.records import BlockSummary, SealedVersion, StoredVersion, VersionInfo
from blocks.store.sql import SqlStore

__all__ = ["BlockSummary", "Registry", "VersionInfo"]


class OpenSink(Protocol):
    """Collects what one load opens (``blocks._registry_documents.Opened``: the documents a
    blocks server sends its client)."""

    def opened(self, row: StoredVersion, document: bytes) -> None:
        """``row`` was decrypted to ``document``."""

    def referenced(self, row: StoredVersion, target_id: str) -> None:
        """``row``'s document references the block ``target_id``."""


class Registry(RegistryRecovery, RegistryServices):
    """A registry of typed, encrypted blocks.

    Args:
        settings: configuration; read from ``BLOCKS_*`` environment variables when omitted.
        key_provider: master-key provider; built from ``settings`` when omitted.
        clock: returns "now" for version timestamps (injectable for tests).
        new_id: makes block ids (injectable for tests).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        key_provider: KeyProvider | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        rng: envelope.Rng = os.urandom,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.store = SqlStore(
            self.settings.resolved_database_url, synchronous=self.settings.sqlite_synchronous
        )
        self._provider = key_provider
        self._keyring: Keyring | None = None
        self._lock = threading.Lock()
        self._clock = clock
        self._new_id = new_id
        self._rng = rng
        self._weak = weakref.ref(self)
        self._rows: Memo[StoredVersion] = Memo()
        self._found = False

    def __repr__(self) -> str:
        return f"Registry(store={self.store!r})"

    @classmethod
    def default(cls) -> RegistryProtocol:
        """The process-wide registry built from the environment (created on first use): this
        one, or a :class:`~blocks.remote.registry.RemoteRegistry` when ``BLOCKS_API_URL`` is
        set (:func:`blocks.registry_protocol.open_registry` decides)."""
        return default_registry()

    @classmethod
    def default_local(cls, purpose: str) -> Registry:
        """The process-wide registry, for ``purpose`` that needs it in this process.

        Raises:
            ConfigurationError: ``BLOCKS_API_URL`` makes the default a blocks server's.
        """
        return local(cls.default(), purpose)

    @classmethod
    def reset_default(cls) -> None:
        """Forget the process-wide registry (after changing ``BLOCKS_*`` variables)."""
        reset_default_registry()

    def close(self) -> None:
        """Close database connections and drop unwrapped keys from memory."""
        self._close_audit()  # the buffered read records first: they need the keys
        if self._keyring is not None:
            self._keyring.forget()
        self.store.close()

    # -- blocks ---------------------------------------------------------------------------

    def save(
        self,
        block: Block,
        name: str,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
        stage: Literal["pending"] | None = None,
    ) -> VersionInfo:
        """Save ``block`` as a new immutable version of ``slug/name``.

        With ``stage="pending"`` the version is staged: labelled ``pending`` while ``current``
        stays where it is (rotators use this; :meth:`move_stages` promotes it).

        An ordinary save makes the new version ``current`` and the one it replaces
        ``previous``; a rotation's ``pending`` version keeps its label.

        A policy assigned to ``block.rotation`` is checked before the version is written and
        stored right after it (see :mod:`blocks.rotation.attached`).

        Raises:
            BlockAlreadyExists, ConflictError, ValidationError, KeyProviderError.
        """
        prepared = prepare_save(block, name, stage)
        slug, cls, encoded = prepared.slug, type(block), prepared.encoded
        check_references(self.store, slug, name, encoded.refs)
        schema = cls.block_schema()
        keyring = self.keyring
        keyring.current_term  # noqa: B018 - unwrap the keyring before the transaction starts

        def seal(block_id: str, version: int) -> SealedVersion:
            aad = envelope.binding(block_id, slug, version)
            data_key, blob = envelope.seal(encoded.document, aad, rng=self._rng)
            term, wrapped = keyring.wrap_data_key(data_key, aad)
            return SealedVersion(term, wrapped, blob)

        with self._recording("write", f"{slug}/{name}", stage=stage):
            info = self.store.save_version(
                slug, name, overwrite=overwrite, expected_version=expected_version, seal=seal,
                refs=encoded.refs, schema_checksum=schema["checksum"],
                schema_version=cls.block_schema_version, note=note, now=self._clock(),
                new_id=self._new_id, stage=stage)
        block._stamp(info.block_id, name, info.version, self._weak)
        if stage is None:  # a staged version is not current: mirrors keep the current one
            self._after_current_moved(info.block_id)
        prepared.attach_policy(self)
        return info

    def load(
        self,
        ref: str,
        *,
        version: int | None = None,
        stage: Stage | None = None,
        validate: bool = True,
    ) -> Block:
        """Load ``slug/name``: its current version, a ``version``, or a ``stage``.

        ``stage`` is ``"current"`` (the default), ``"pending"`` (a rotation's new credential
        before promotion) or ``"previous"`` (the credential promotion replaced, kept until the
        rotation policy's grace ends).

        ``validate=False`` loads a document that no longer fits its type (see ``Block.load``).

        Raises:
            BlockNotFound, UnknownBlockType, DecryptionError, ValidationError.
        """
        slug, name = split_ref(ref)
        cls = catalog.get(slug)
        with self._reading("read", ref, version=version, stage=stage) as record:
            row = self._row(slug, name, version, stage)
            if record is not None:
                record.subject, record.version = row.block_id, row.version
            return self._open(cls, row, set(), validate)

    def _row(
        self, slug: str, name: str, version: int | None, stage: Stage | None
    ) -> StoredVersion:
        """The checked row of ``slug/name`` at ``version`` or ``stage`` (internal); the one
        checked before while the database is unchanged (:mod:`blocks.store.generation`)."""
        # Before the mark (reading it opens, and would create, the database); seals a
        # freshly upgraded database before its rows are read.
        self._existing()
        return self._rows.get((slug, name, version, stage), self.store.mark(),
                              lambda: self._read_row(slug, name, version, stage))

    def _read_row(
        self, slug: str, name: str, version: int | None, stage: Stage | None
    ) -> StoredVersion:
        if stage is not None and stage != "current":
            if version is not None:
                raise TypeError("give version or stage, not both")
            if stage not in STAGES:
                raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
            version = self._stages(slug, name).get(stage)
            if version is None:
                raise BlockNotFound(self._no_stage(slug, name, stage))
        row = self.store.get_version(slug, name, version)
        if row is None:
            raise BlockNotFound(self._not_found(slug, name, version))
        self._check(row, f"{slug}/{name}", version)
        return row

    def delete(self, ref: str, *, recovery_window: RecoveryWindow = None) -> None:
        """Delete ``slug/name``: at once it leaves loads, lists, references and mirrors.

        With a recovery window (``BLOCKS_RECOVERY_WINDOW``, default 7 days; ``recovery_window``
        overrides it, up to 30 days) it waits to be shredded: :meth:`undelete` or a save of its
        name brings it back until then, :meth:`gc` shreds it after. With 0 it is shredded now:
        every version and its data keys go (a block already waiting too). A mirrored block's
        copies (``blocks mirror``) are deleted first; if one cannot be, nothing is deleted.

        Raises:
            BlockNotFound, ReferencedBlockError (names the referencing blocks), PrefectError
            (a mirrored copy could not be deleted), InvalidArgument (a bad window).
        """
        slug, name = split_ref(ref)
        window = self.recovery_window(recovery_window)
        with self._recording("delete", f"{slug}/{name}", detail={"window": str(window)}):
            self._delete(slug, name, window)

    def _delete(self, slug: str, name: str, window: Any) -> None:
        self._require_registry()
        _ = self.keyring  # the head and the censuses are checked and re-sealed
        if self.store.summary(slug, name) is None:
            if not window and self._shred_deleted(slug, name):
                return
            raise BlockNotFound(f"no block {slug}/{name}{self._deletion_note(slug, name)}")
        # The sealed documents say what references what; the block_ref rows only index it.
        referrers = document_referrers(self, slug, name)
        if referrers:
            raise ReferencedBlockError(f"{slug}/{name}", referrers)
        with hooks.get(hooks.MIRRORS_DELETING)(self, slug, name):  # no HTTP client unless mirrored
            if window:
                now = self._clock()
                schedule_block(self.store, self.sealer, slug, name, now=now,
                               shred_after=now + window)
                return
            self.store.delete_block(slug, name)
        self.store.checkpoint()  # the shredded keys must not linger in the SQLite WAL

    def rename(
        self, ref: str, new_name: str, *, expected_version: int | None = None
    ) -> BlockSummary:
        """Rename ``slug/name`` to ``slug/new_name``: same block id, history kept.

        References from other blocks follow (they are stored by id).

        Raises:
            BlockNotFound, InvalidName, ConflictError (the new name is taken, by a block or by
            a deleted one in its recovery window, or the current version is not
            ``expected_version``).
        """
        slug, name = split_ref(ref)
        validate_name(new_name)
        _ = self.keyring  # the head is re-sealed: unwrap the keyring before the transaction
        note = self._deletion_note(slug, new_name) if new_name != name else ""
        if note:  # the name stays reserved for an undo (or a save that brings it back)
            raise ConflictError(
                f"cannot rename {slug}/{name} to {new_name}: {slug}/{new_name} is a deleted "
                f"block{note.removeprefix('; it was deleted and is')}, or shred it first "
                f"('blocks rm --now {slug}/{new_name}')")
        with self._recording("rename", f"{slug}/{name}", detail={"to": f"{slug}/{new_name}"}):
            return self.store.rename_block(
                slug, name, new_name, expected_version=expected_version, now=self._clock())

    def list(self, slug: str | None = None) -> builtins.list[BlockSummary]:
        """Every block (or every block of one type), by type and name."""
        with self._reading("list", slug or "*"):
            return self.store.list_blocks(slug)

    def summary(self, ref: str) -> BlockSummary:
        """One block's id, current version and timestamps."""
        slug, name = split_ref(ref)
        found = self.store.summary(slug, name)
        if found is None:
            raise BlockNotFound(f"no block {slug}/{name}{self._deletion_note(slug, name)}")
        return found

    def history(self, ref: str) -> builtins.list[VersionInfo]:
        """Every version of ``slug/name``, oldest first."""
        slug, name = split_ref(ref)
        with self._reading("history", ref):
            return self._history(slug, name)

    def _history(self, slug: str, name: str) -> builtins.list[VersionInfo]:
        self._existing()  # seals a freshly upgraded database before reading its rows
        with self.store.snapshot():  # a save committed between the two reads: not a gap
            versions = self.store.history(slug, name)
            head = self.store.get_version(slug, name) if versions else None
        if not versions:
            raise BlockNotFound(f"no block {slug}/{name}")
        if head is not None:
            self._check(head, f"{slug}/{name}", None)
            numbers = [v.version for v in versions]
            if numbers != list(range(1, (head.latest_version or 0) + 1)):
                raise IntegrityError(f"{slug}/{name}", "versions are missing from its history")
        return versions

    def parse(self, slug: str, data: Mapping[str, Any], *, ref: str = "") -> Block:
        """Build (and validate) a block of type ``slug`` from a plain JSON document.

        A nested block field may hold ``{"$ref": "type-slug/name"}`` or ``{"$ref": "<block id>"}``
        to reference a saved block.

        Raises:
            UnknownBlockType, ValidationError (field path named, values never shown).
        """
        return parse(self, slug, data, ref=ref)

    def rollback(
        self, ref: str, version: int, *, expected_version: int | None = None
    ) -> VersionInfo:
        """Write a new version whose content is that of ``version`` (history is kept)."""
        with self._recording("rollback", ref, detail={"from_version": version}):
            old = self.load(ref, version=version)
            return self.save(old, split_ref(ref)[1], overwrite=True,
                             expected_version=expected_version,
                             note=f"rollback to version {version}")

    # -- internals ------------------------------------------------------------------------

    def _open(
        self, cls: type[Block], row: StoredVersion, seen: set[str], validate: bool = True,
        sink: OpenSink | None = None,
    ) -> Block:
        """Decrypt and decode ``row``, resolving its references; ``sink`` also collects the
        documents opened (what the server sends a client, see ``blocks._registry_documents``)."""
        ref = f"{row.type_slug}/{row.name}"
        assert row.version is not None
        if row.wrapped_key is None or row.ciphertext is None or row.term is None:
            raise BlockNotFound(f"{ref} version {row.version} was purged (crypto-shredded)")
        aad = envelope.binding(row.block_id, row.type_slug, row.version)
        data_key = self.keyring.unwrap_data_key(row.term, row.wrapped_key, aad)
        document = envelope.unseal(data_key, row.ciphertext, aad)
        seen = seen | {row.block_id}
        if sink is not None:
            sink.opened(row, document)

        def resolve(block_id: str, expected: type[Block]) -> Block:
            if block_id in seen:
                raise ValueError("reference cycle between blocks")
            target = self.store.get_current_by_id(block_id)
            if target is None:
                raise ValueError("the referenced block no longer exists")
            self._check(target, f"the block {block_id} referenced by {ref}", None)
            target_cls = catalog.get(target.type_slug)
            if not issubclass(target_cls, expected):
                raise ValueError(
                    f"references {target.type_slug}/{target.name}, not a {expected.__name__}"
                )
            if sink is not None:
                sink.referenced(row, target.block_id)
            return self._open(target_cls, target, seen, validate, sink)

        block = codec.decode(cls, document, resolve, ref, validate=validate)
        block._stamp(row.block_id, row.name, row.version, self._weak)
        return block

    def _not_found(self, slug: str, name: str, version: int | None) -> str:
        if version is not None and self.store.summary(slug, name) is not None:
            return f"{slug}/{name} has no version {version}; see 'blocks history {slug}/{name}'"
        return f"no block {slug}/{name}{self._deletion_note(slug, name)}; see 'blocks ls {slug}'"


def local(registry: RegistryProtocol, purpose: str) -> Registry:
    """``registry``, for ``purpose`` that needs the database and the key in this process.

    Raises:
        ConfigurationError: ``registry`` is a blocks server's (``BLOCKS_API_URL``).
    """
    if not isinstance(registry, Registry):
        raise ConfigurationError(
            f"{purpose} does not go through a blocks server yet, and BLOCKS_API_URL is set: "
            "run it where the registry is (BLOCKS_HOME or BLOCKS_DATABASE_URL, without "
            "BLOCKS_API_URL)"
        )
    return registry



def describe(block: Block, *, show_secrets: bool = False) -> dict[str, Any]:
    """A block as a JSON-able dict with secrets masked (unless ``show_secrets``)."""
    return codec.to_display(block, show_secrets=show_secrets)
