"""Key management on top of a :class:`~blocks.registry.Registry`: status, rotation, rewrap,
retirement, master-key rotation and crypto-shredding.

Example:
    >>> from blocks import Registry
    >>> from blocks.key_management import KeyManager
    >>> keys = KeyManager(Registry())                                  # doctest: +SKIP
    >>> keys.rotate()                                                  # doctest: +SKIP
    2
    >>> keys.rewrap().moved                                            # doctest: +SKIP
    1000

Nothing here opens a document: data keys move between terms inside the keyring, and the master
key only ever wraps the few terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from blocks.core import split_ref
from blocks.crypto import envelope
from blocks.crypto.keyring import TermRecord, key_mismatch_message, term_context
from blocks.errors import DecryptionError, KeyringError
from blocks.keys.base import KeyProvider
from blocks.registry import Registry
from blocks.reports import KeyStatus as KeyStatus
from blocks.reports import TermStatus as TermStatus
from blocks.store import keyops, sealing

Progress = Callable[[int, int], None]
DEFAULT_BATCH = 1000


@dataclass(frozen=True)
class RewrapResult:
    """Outcome of :meth:`KeyManager.rewrap`."""

    target_term: int
    from_terms: list[int]
    moved: int
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MasterRotation:
    """Outcome of :meth:`KeyManager.rotate_master`."""

    old_provider: str
    old_key_id: str
    new_provider: str
    new_key_id: str
    terms: int


class KeyManager:
    """Keyring operations for one registry.

    Args:
        registry: the registry whose keyring and store are managed.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def status(self) -> KeyStatus:
        """The provider, every term and the number of versions per term."""
        keyring = self.registry.keyring
        current = keyring.current_term
        records = keyring.records()
        usage = keyops.term_usage(self.registry.store)
        return KeyStatus(
            provider=keyring.provider.name,
            key_id=keyring.provider.key_id,
            endpoint=keyring.provider.endpoint,
            terms=[
                TermStatus(r.term, r.provider, r.key_id, r.created_at, usage.get(r.term, 0),
                           r.term == current)
                for r in records
            ],
            shredded_versions=keyops.shredded_count(self.registry.store),
        )

    def rotate(self) -> int:
        """Add a keyring term; new writes use it and older terms keep decrypting.

        Returns:
            The new term number.
        """
        with self.registry.audit.recording("keys-rotate", kind="keys", obj="keyring") as rec:
            term = self.registry.keyring.rotate()
            if rec is not None:
                rec.detail["term"] = term
        return term

    def rewrap(
        self,
        term: int | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> RewrapResult:
        """Move data keys of older terms (or of ``term``) under the current term.

        Documents are never opened: each data key is unwrapped with its old term and wrapped
        with the current one. Work is done in batches of ``batch_size``, one transaction each,
        so readers and writers carry on meanwhile and an interrupted run loses nothing; run it
        again to finish. Versions written by processes that still cache an older current term
        are picked up by the next run.

        Raises:
            KeyringError: ``term`` does not exist or is the current term.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        keyring = self.registry.keyring
        known = [r.term for r in keyring.records()]
        target = keyring.current_term
        if term is not None:
            if term not in known:
                raise KeyringError(f"keyring term {term} does not exist; see 'blocks keys status'")
            if term == target:
                raise KeyringError(
                    f"keyring term {term} is the current term; run 'blocks keys rotate' first"
                )
            sources = [term]
        else:
            sources = [t for t in known if t != target]
        store = self.registry.store
        total = keyops.count_in_terms(store, sources)

        def move(rows: Sequence[keyops.WrappedDataKey]) -> list[tuple[int, bytes] | None]:
            return keyring.rewrap_data_keys([
                (r.term, r.wrapped_key, envelope.binding(r.block_id, r.type_slug, r.version))
                for r in rows
            ])

        moved, failed = 0, []
        cursor: keyops.Cursor | None = None
        if progress is not None:
            progress(0, total)
        while sources:
            batch = keyops.rewrap_batch(store, sources, cursor, batch_size, move)
            moved += batch.moved
            failed += [f"{r.type_slug}/{r.name} version {r.version}" for r in batch.failed]
            if progress is not None:
                progress(moved + len(failed), total)
            if batch.cursor is None:
                break
            cursor = batch.cursor
        if progress is not None and moved + len(failed) < total:
            progress(total, total)  # the rest were purged or moved by others meanwhile
        _, unsealed = sealing.reseal(store, self.registry.sealer, sources)
        self.registry.audit.hash_key().rewrap(sources)  # searchable hashes stay comparable
        self.registry.audit.record("keys-rewrap", kind="keys", obj="keyring",
                                   detail={"terms": sources, "to": target, "moved": moved})
        return RewrapResult(target, sources, moved, failed + unsealed)

    def retire(self, term: int) -> None:
        """Delete a term's key for good.

        Raises:
            KeyringError: versions still use the term, it is the current term, or it does not
                exist.
        """
        key_term = self.registry.audit.hash_key().term()
        if key_term == term:
            raise KeyringError(
                f"keyring term {term} still wraps the audit hash key; run 'blocks keys rewrap "
                f"--term {term}' first")
        with self.registry.audit.recording("keys-retire", kind="keys", obj="keyring",
                                           detail={"term": term}):
            keyops.retire_term(self.registry.store, term)
        self.registry.store.checkpoint()  # the term's wrapped key must not linger in the WAL
        self.registry.keyring.refresh()

    def rotate_master(self, new_provider: KeyProvider) -> MasterRotation:
        """Re-wrap every keyring term under ``new_provider``: O(terms), not O(blocks).

        The old master key (this registry's provider) unwraps each term and the new one wraps
        it, in one transaction: if either provider fails, nothing changes. Afterwards, configure
        every process with the new provider (``BLOCKS_KEY_PROVIDER`` and its key setting).

        Raises:
            KeyProviderError: either provider is unreachable or refuses.
            KeyringError: a term does not open with the current master key.
        """
        keyring = self.registry.keyring
        old = keyring.provider
        new_provider.check()

        def rewrap(record: TermRecord) -> TermRecord:
            ctx = term_context(record.term)
            try:
                key = old.unwrap(record.wrapped_key, ctx)
            except DecryptionError:
                raise KeyringError(key_mismatch_message(record, old)) from None
            return TermRecord(
                record.term, new_provider.wrap(key, ctx), new_provider.name, new_provider.key_id,
                record.created_at, record.retired_at,
            )

        records = keyops.rewrap_terms(self.registry.store, rewrap)
        keyring.provider = new_provider
        keyring.refresh()
        return MasterRotation(old.name, old.key_id, new_provider.name, new_provider.key_id,
                              len(records))

    def purge(self, ref: str, version: int) -> None:
        """Crypto-shred one earlier version of ``slug/name``: its wrapped data key is deleted,
        so its ciphertext (in this database, a replica or a backup) can never be opened again.

        To shred every version of a block, delete the block (:meth:`Registry.delete`).

        Raises:
            BlockNotFound: no such block or version.
            ConflictError: ``version`` is the current version.
        """
        slug, name = split_ref(ref)
        head = self.registry._check_head(ref)  # the head decides which version is current
        stages = head.stage_map()
        if version in (stages.get("pending"), stages.get("previous")):
            # Unlabel first: a stage never names a shredded version.
            self.registry.move_stages(
                ref, expected_current=head.current_version,
                pending=None if stages.get("pending") == version else "keep",
                previous=None if stages.get("previous") == version else "keep",
            )
        keyops.shred_version(self.registry.store, slug, name, version)
        self.registry.store.checkpoint()  # the shredded key must not linger in the WAL
