"""What the chain, the audit trail and rotation's seals need of the modules above them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from blocks.crypto.keyring import Keyring
    from blocks.store.records import Head


class Signer(Protocol):
    """Seals new records and checks stored ones (:class:`~blocks.store.sealing.KeyringSealer`)."""

    def sign(self, message: Callable[[int], bytes]) -> tuple[int, bytes]:
        """``(term, mac)`` of ``message(term)`` under the current term."""
        ...

    def check(self, term: Any, mac: Any, message: Callable[[int], bytes], what: str) -> None:
        """Raise :class:`IntegrityError` naming ``what`` unless the record authenticates."""
        ...


class Sealer(Signer, Protocol):
    """A :class:`Signer` that also tells whether a record authenticates (reading the chain)."""

    def valid(self, term: Any, mac: Any, message: Callable[[int], bytes]) -> bool:
        """True if ``mac`` authenticates ``message(term)`` under ``term``."""
        ...


class KeyedSigner(Signer, Protocol):
    """A :class:`Signer` that names its keyring (to make a first term before taking a lock)."""

    @property
    def keyring(self) -> Keyring:
        """The registry's keyring."""
        ...


class ChainWriter(Protocol):
    """The store's DB-API transactions and SQL dialect (:class:`~blocks.store.writer.Writer`)."""

    @property
    def sqlite(self) -> bool:
        """SQLite (``?`` placeholders) or PostgreSQL (``%s``, ``FOR UPDATE``)."""
        ...

    def connection(self) -> Any:
        """This thread's DB-API connection (autocommit: reads outside a transaction)."""
        ...

    def native(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in the driver's paramstyle."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """One write transaction holding the write lock; commits, or rolls back on error."""
        ...

    def stamp(self, now: datetime) -> Any:
        """A timestamp as the dialect stores it."""
        ...


class UpgradeSealingStore(Protocol):
    """The store as rotation's one-time sealing reads it (:class:`~blocks.store.sql.SqlStore`)."""

    @property
    def writer(self) -> ChainWriter:
        """The store's writer."""
        ...

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        """One row of a ``?``-placeholder query on the read connection (``None``: no row)."""
        ...


class HeadSealer(Signer, Protocol):
    """Seals and checks block heads, reference rows and censuses (the registry's
    :class:`~blocks.store.sealing.KeyringSealer`)."""

    def seal_head(self, head: Head) -> Head:
        """``head`` with ``term`` and ``mac`` set under the current term."""
        ...

    def check_head(self, head: Head, what: str) -> None:
        """Raise :class:`IntegrityError` naming ``what`` unless ``head`` authenticates."""
        ...

    def stale(self) -> None:
        """A write failed on a constraint: refresh cached keys (a term may be retired)."""
        ...
