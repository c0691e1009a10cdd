"""Marks that stay equal while a SQLite database is unchanged, and memos checked against them.

A server answers the same few tokens and blocks all day, and each answer re-read the token
and policy censuses and the block's head and re-checked their MACs, though nothing had
changed. SQLite says when something did: ``PRAGMA data_version`` moves when any other
connection, in this process or another, commits, and a connection's ``total_changes`` moves
with each row it writes itself. :func:`mark` of a connection is both (less the rows of the
audit records appended on it, :func:`exempt`: they change only the event log), and a
:class:`Memo` entry made under one mark is served only while the mark is the same, so a
rotation, a revocation or a policy change made anywhere is seen by the next request, as
without the memo. PostgreSQL has no such mark: there every read goes to the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Mark = tuple[int, int, int]

_exempt: dict[int, int] = {}
_exempt_lock = threading.Lock()


def mark(conn: Any) -> Mark | None:
    """The mark of SQLite connection ``conn`` now (``None`` when it cannot tell)."""
    try:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        own = conn.total_changes
    except sqlite3.Error:
        return None
    return (id(conn), int(version), int(own) - _exempt.get(id(conn), 0))


class exempt:  # used as a function: ``with exempt(conn):``
    """Rows written on ``conn`` inside the block (audit records only: they change the event
    log and its head, which nothing memoised depends on) leave its :func:`mark` unmoved.
    (A class, not a generator: it wraps every audit record a server appends.)"""

    __slots__ = ("_before", "_conn")

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._before = self._conn.total_changes

    def __exit__(self, *exc: object) -> None:
        moved = self._conn.total_changes - self._before
        if moved:
            key = id(self._conn)
            with _exempt_lock:
                _exempt[key] = _exempt.get(key, 0) + moved


def forget(conn: Any) -> None:
    """Drop what :func:`exempt` noted for ``conn`` (closed: its id may be reused)."""
    with _exempt_lock:
        _exempt.pop(id(conn), None)


class Memo(Generic[T]):
    """Values by key, each served while the mark it was made under is the current one.

    Args:
        size: entries kept (all are dropped at once past this).
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: dict[Hashable, tuple[Mark, T]] = {}

    def get(self, key: Hashable, now: Mark | None, make: Callable[[], T]) -> T:
        """The value of ``key`` made under mark ``now``, or ``make()`` (kept under ``now``;
        with ``now`` None, neither served nor kept). What ``make`` raises is not kept."""
        if now is None:
            return make()
        found = self._entries.get(key)
        if found is not None and found[0] == now:
            return found[1]
        value = make()
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (now, value)
        return value
