"""The keyring: AES-256 data-key terms, each wrapped by the master key. Hazardous: low-level.

Following Vault's barrier design, the master key (a :class:`~blocks.keys.KeyProvider`) wraps only
the few keyring terms; every version's data key is wrapped by a term. A process unwraps the
terms once and keeps them in memory for a bounded time, so the number of master-key calls does
not grow with the number of blocks or loads, and changing the master key is O(terms).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from blocks import _nowait
from blocks.crypto import envelope
from blocks.errors import ConflictError, DecryptionError, KeyringError
from blocks.keys.base import KeyProvider


@dataclass(frozen=True)
class TermRecord:
    """A stored keyring term: its key wrapped by the master key, and who wrapped it."""

    term: int
    wrapped_key: bytes
    provider: str
    key_id: str
    created_at: datetime | None = None
    retired_at: datetime | None = None


class TermStore(Protocol):
    """Where keyring terms persist (the SQL store implements it)."""

    def load_terms(self) -> Sequence[TermRecord]:
        """Every term, retired ones included, in ascending order."""
        ...

    def insert_term(self, record: TermRecord) -> None:
        """Add a term; raise :class:`ConflictError` if that term number exists."""
        ...


def key_mismatch_message(record: TermRecord, provider: KeyProvider) -> str:
    """Why a term does not open with the configured key, without sending the operator to the
    key the database names: a database writer can put any key id there."""
    return (
        f"keyring term {record.term} does not open with the configured master key "
        f"({provider.name} {provider.key_id}); the database says it is wrapped by "
        f"{_shown(record.provider, record.key_id)}. {_CAUTION}"
    )


def claimed_key_message(term: int, claimed: tuple[str, str], configured: tuple[str, str]) -> str:
    """A term's record names another master key than the configured one (``(provider,
    key_id)`` pairs), found when adding a term: said without sending the operator there."""
    return (
        f"keyring term {term}'s record names the master key {_shown(*claimed)}, not the "
        f"configured one ({configured[0]} {configured[1]}); no term was added. {_CAUTION}"
    )


_CAUTION = (
    "If a 'blocks keys rotate-master' moved this registry to that key, configure the key it "
    "was moved to; if nobody did, the database may have been altered: do not configure the "
    "key it names, and check the database"
)


def _shown(provider: str, key_id: str) -> str:
    claimed = f"{provider} {key_id}"
    return repr(claimed[:120]) + ("..." if len(claimed) > 120 else "")


def term_context(term: int) -> dict[str, str]:
    """The master-key context a term is wrapped under."""
    return {"purpose": "blocks-keyring-term", "term": str(term)}


def data_key_binding(term: int, aad: bytes) -> bytes:
    """Associated data of a wrapped data key: its term plus the version binding."""
    return b"blocks-data-key\x00" + str(term).encode() + b"\x00" + aad


MAC_INFO = b"blocks-integrity-mac/v1"


def mac_key(term_key: bytes) -> bytes:
    """The HMAC key of a term: HKDF-SHA256 of the term key (never the term key itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=MAC_INFO).derive(term_key)


class Keyring:
    """Wraps and unwraps per-version data keys with the current term.

    Args:
        provider: the master-key provider that wraps the terms.
        store: persistence of the wrapped terms.
        cache_seconds: how long unwrapped terms stay in memory before they are re-read.
        clock: monotonic clock (injectable for tests).
        rng: randomness for new term keys and nonces (injectable for tests).
    """

    def __init__(
        self,
        provider: KeyProvider,
        store: TermStore,
        *,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        rng: envelope.Rng = os.urandom,
    ) -> None:
        self.provider = provider
        self._store = store
        self._ttl = cache_seconds
        self._clock = clock
        self._rng = rng
        self._lock = threading.Lock()
        self._terms: dict[int, AESGCM] = {}
        self._macs: dict[int, bytes] = {}
        self._current: int | None = None  # newest active term, computed on refresh
        self._records: dict[int, TermRecord] = {}
        self._loaded_at: float | None = None

    def __repr__(self) -> str:
        return f"Keyring(provider={self.provider.name}, terms={sorted(self._terms)})"

    @property
    def current_term(self) -> int:
        """The newest active term; new data keys are wrapped under it (created if none)."""
        self._ensure_loaded()
        current = self._current
        if current is None:
            return self.rotate()
        return current

    def records(self) -> list[TermRecord]:
        """The stored terms (fresh from the store)."""
        self.refresh()
        return [self._records[t] for t in sorted(self._records)]

    def wrap_data_key(self, data_key: bytes, aad: bytes) -> tuple[int, bytes]:
        """Wrap a data key under the current term. Returns ``(term, wrapped)``."""
        term = self.current_term
        return term, envelope.encrypt(
            self._term_key(term), data_key, data_key_binding(term, aad), rng=self._rng
        )

    def unwrap_data_key(self, term: int, wrapped: bytes, aad: bytes) -> bytes:
        """Unwrap a data key (raises :class:`DecryptionError` when not authentic).

        A term that is not in the keyring is a stored row that was altered: a term is only
        retired once no version uses it. That is a :class:`DecryptionError` too.
        """
        if type(term) is not int:
            raise DecryptionError()
        self._ensure_loaded()  # a wrong master key raises here, with its own message
        try:
            key = self._term_key(term)
        except KeyringError:
            raise DecryptionError() from None
        return envelope.decrypt(key, wrapped, data_key_binding(term, aad))

    def mac(self, term: int, message: bytes) -> bytes:
        """HMAC-SHA256 of ``message`` under ``term``'s MAC key (derived from the term key).

        Callers put a purpose tag, every bound field and the term itself into ``message``.
        """
        return hmac.digest(self._mac_key(term), message, hashlib.sha256)

    def sign(self, message: Callable[[int], bytes]) -> tuple[int, bytes]:
        """``(term, mac)``: the HMAC-SHA256 of ``message(term)`` under the current term (as
        :meth:`mac` of :attr:`current_term`, with one look at the keyring's freshness)."""
        term = self.current_term
        key = self._macs.get(term)
        if key is None:  # pragma: no cover - current_term has just loaded it
            key = self._mac_key(term)
        return term, hmac.digest(key, message(term), hashlib.sha256)

    def verify(self, term: int | None, message: bytes, tag: bytes | None) -> bool:
        """True if ``tag`` is the MAC of ``message`` under ``term`` (False for unknown terms)."""
        if type(term) is not int or type(tag) is not bytes:
            return False
        self._ensure_loaded()  # a wrong master key raises here, with its own message
        key = self._macs.get(term)
        if key is None:
            self.refresh()  # a term written by another process since we loaded
            key = self._macs.get(term)
            if key is None:
                return False
        return hmac.compare_digest(hmac.digest(key, message, hashlib.sha256), tag)

    def rewrap_data_keys(
        self, items: Sequence[tuple[int, bytes, bytes]]
    ) -> list[tuple[int, bytes] | None]:
        """Move wrapped data keys ``(term, wrapped, aad)`` to the current term.

        Documents are not touched: each data key is unwrapped with its term and wrapped again
        with the current one, returned as ``(term, wrapped)``. An item that does not open gives
        ``None`` instead of raising, so one altered row does not stop a batch.
        """
        target = self.current_term
        target_key = self._term_key(target)
        keys: dict[int, AESGCM] = {}
        out: list[tuple[int, bytes] | None] = []
        for term, wrapped, aad in items:
            key = keys.get(term)
            if key is None:
                key = keys[term] = self._term_key(term)
            try:
                data_key = envelope.decrypt(key, wrapped, data_key_binding(term, aad))
            except DecryptionError:
                out.append(None)
                continue
            out.append((target, envelope.encrypt(
                target_key, data_key, data_key_binding(target, aad), rng=self._rng
            )))
        return out

    def rotate(self) -> int:
        """Add a new term (new writes use it; old terms keep decrypting). Returns its number."""
        for _ in range(5):
            self.refresh()
            term = max(self._records, default=0) + 1
            key = self._rng(envelope.KEY_BYTES)
            record = TermRecord(
                term=term,
                wrapped_key=self.provider.wrap(key, term_context(term)),
                provider=self.provider.name,
                key_id=self.provider.key_id,
            )
            try:
                self._store.insert_term(record)
            except ConflictError:
                continue  # another process added this term first; take the next number
            self.refresh()
            return term
        raise KeyringError("could not add a keyring term: other writers kept adding terms")

    def refresh(self) -> None:
        """Re-read the terms from the store, unwrapping only the ones not yet in memory."""
        _nowait.check()  # the key provider may be a network call (KMS, Vault)
        records = {r.term: r for r in self._store.load_terms()}
        with self._lock:
            for term, record in records.items():
                known = self._records.get(term)
                # A term whose wrapping changed was re-wrapped under a new master key
                # (rotate-master): unwrap it again, so a stale master key is noticed here.
                if term not in self._terms or (
                    known is not None and known.wrapped_key != record.wrapped_key
                ):
                    raw = self._unwrap_term(record)
                    self._terms[term] = AESGCM(raw)
                    self._macs[term] = mac_key(raw)
            for gone in set(self._terms) - set(records):
                del self._terms[gone]
                self._macs.pop(gone, None)
            self._records = records
            active = [t for t, r in records.items() if r.retired_at is None]
            self._current = max(active) if active else None
            self._loaded_at = self._clock()

    def _unwrap_term(self, record: TermRecord) -> bytes:
        try:
            return self.provider.unwrap(record.wrapped_key, term_context(record.term))
        except DecryptionError:
            if record.provider != self.provider.name:
                raise KeyringError(key_mismatch_message(record, self.provider)) from None
            raise

    def forget(self) -> None:
        """Drop every unwrapped term from memory."""
        with self._lock:
            self._terms.clear()
            self._macs.clear()
            self._records.clear()
            self._current = None
            self._loaded_at = None

    def _ensure_loaded(self) -> None:
        loaded = self._loaded_at
        if loaded is None or self._clock() - loaded > self._ttl:
            _nowait.check()  # before forgetting: a load that may not wait leaves the keys
            if loaded is not None:
                self.forget()
            self.refresh()

    def _term_key(self, term: int) -> AESGCM:
        self._ensure_loaded()
        key = self._terms.get(term)
        if key is None:
            self.refresh()  # written by another process since we loaded
            key = self._terms.get(term)
            if key is None:
                raise KeyringError(f"keyring term {term} does not exist (was it retired?)")
        return key

    def _mac_key(self, term: int) -> bytes:
        self._ensure_loaded()
        key = self._macs.get(term)
        if key is None:
            self.refresh()
            key = self._macs.get(term)
            if key is None:
                raise KeyringError(f"keyring term {term} does not exist (was it retired?)")
        return key
