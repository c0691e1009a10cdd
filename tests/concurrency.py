"""Another process committing in the middle of a read, at a chosen point, every time: for the
tests of reads that check rows against each other (``tests/core/test_read_snapshot.py``,
``tests/access/test_concurrent_reads.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from blocks import Registry, Settings

T = TypeVar("T")


def reopened(registry: Registry) -> Registry:
    """The same registry opened again: its own connections, as another process."""
    return Registry(Settings(home=registry.settings.home,
                             database_url=registry.settings.database_url))


@contextmanager
def interleaved(registry: Registry, module: Any, attr: str, when: Callable[..., bool],
                commit: Callable[[Registry], Any], *, after: bool) -> Iterator[list[bool]]:
    """Inside the block, the first call of ``module.attr`` whose arguments ``when`` accepts
    has ``commit(other)`` done by another process just before it (or ``after`` it); the
    yielded list is non-empty once that happened."""
    original = getattr(module, attr)
    other = reopened(registry)
    ran: list[bool] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        now = not ran and when(*args, **kwargs)
        if now:
            ran.append(True)
            setattr(module, attr, original)  # the other process's own calls are plain
        if now and not after:
            commit(other)
        found = original(*args, **kwargs)
        if now and after:
            commit(other)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, attr, call)
        try:
            yield ran
        finally:
            other.close()


def meanwhile(registry: Registry, needle: str, commit: Callable[[Registry], Any],
              call: Callable[[], T]) -> T:
    """``call()``, with ``commit(other)`` done by another process right after the first
    SQLAlchemy statement of ``registry`` that holds ``needle``."""
    from sqlalchemy import event

    other = reopened(registry)
    engine = registry.store.engine
    ran: list[str] = []

    def commit_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if needle in statement and not ran:
            ran.append(statement)
            commit(other)

    event.listen(engine, "after_cursor_execute", commit_meanwhile)
    try:
        found = call()
    finally:
        event.remove(engine, "after_cursor_execute", commit_meanwhile)
        other.close()
    assert ran, f"no statement held {needle!r}"
    return found
