"""What the chain, the audit trail, rotation's seals and deletion need of the modules above them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from blocks.crypto.keyring import Keyring
    from blocks.store import census
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


class RotationStore(Protocol):
    """The store as rotation's one-time sealing reads it (:class:`~blocks.store.sql.SqlStore`)."""

    @property
    def writer(self) -> ChainWriter:
        """The store's writer."""
        ...

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        """One row of a ``?``-placeholder query on the read connection (``None``: no row)."""
        ...


class DeletionWriter(Protocol):
    """The store's writer as a scheduled deletion uses it (:class:`~blocks.store.writer.Writer`)."""

    @property
    def lock(self) -> str:
        """``" FOR UPDATE"`` on PostgreSQL, else empty (SQLite's transaction holds the lock)."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """One write transaction holding the write lock; commits, or rolls back on error."""
        ...

    def executor(self, conn: Any) -> census.Execute:
        """Runs ``?``-placeholder SQL on ``conn`` (a DB-API connection of this writer)."""
        ...

    def stamp(self, now: datetime) -> Any:
        """A timestamp as the dialect stores it."""
        ...

    def is_constraint(self, exc: BaseException) -> bool:
        """True for a unique or foreign-key violation."""
        ...


class DeletionStore(Protocol):
    """The store as deleting a block uses it (:class:`~blocks.store.sql.SqlStore`)."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        ...

    @property
    def writer(self) -> DeletionWriter:
        """The store's writer."""
        ...

    def executor(self, conn: Connection) -> census.Execute:
        """Runs ``?``-placeholder SQL on a SQLAlchemy connection of this store."""
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
