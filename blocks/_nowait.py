"""Reads that must not wait: the async twins' fast path (``blocks/_async.py``).

``await X.aload(...)`` first runs the sync load on the event loop inside
:func:`without_waiting`. Every step of a load that could wait declares itself with
:func:`check`: a keyring that must be (re)read from its key provider, a registry whose keyring
or schema is not set up yet, a PostgreSQL connection (network), and a SQLite read that meets a
lock (the read connection used here has no busy timeout). Such a step raises
:class:`WouldBlock`, and the load is handed to a worker thread instead. A load that needs none
of these (the common case: SQLite, keys in memory) finishes on the loop in tens of
microseconds without a thread hand-off, as an uncontended ``asyncio.Lock.acquire`` does.
"""

from __future__ import annotations

from contextvars import ContextVar

_ACTIVE: ContextVar[bool] = ContextVar("blocks_without_waiting", default=False)


class WouldBlock(BaseException):
    """The step would wait. Never reaches callers: ``blocks/_async.py`` catches it and runs the
    call on a worker thread. A ``BaseException`` so that no ``except Exception`` on the way
    turns it into an error."""


def active() -> bool:
    """Whether the current call runs inside :func:`without_waiting`."""
    return _ACTIVE.get()


def check() -> None:
    """Call before a step that may wait.

    Raises:
        WouldBlock: inside :func:`without_waiting`.
    """
    if _ACTIVE.get():
        raise WouldBlock


class without_waiting:  # used as a function: ``with without_waiting():``
    """Run the body in the mode where waiting steps raise :class:`WouldBlock` (a class, not a
    generator: it wraps every load answered on an event loop)."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _ACTIVE.set(True)

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._token)
