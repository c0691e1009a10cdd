"""The peak of Python allocations made by a piece of work (``tracemalloc``), the same whatever
ran before it in the test process.

CPython keeps freed tuples of up to 19 items for reuse (up to 2,000 of each size in 3.11), and
``tracemalloc`` counts a tuple on that list as still allocated. Work that goes through many
rows refills the lists once a full collection has emptied them: the same backup of 1,000
blocks peaked at 449-460 KB with the lists full and at 710 KB with them empty, depending on
what the test's worker had run before it. CI saw a test that compares two peaks fail that
way. :func:`peak_of` first empties the lists (``gc.collect()``) and then fills them before it
starts tracing, so the peak it reports is what the work itself keeps alive.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_TUPLE_SIZES = range(1, 20)
_PER_SIZE = 2_000


def settle_free_lists() -> None:
    """Empty the interpreter's free lists, then fill the tuple lists to their limit."""
    gc.collect()
    made = [tuple(range(size)) for size in _TUPLE_SIZES for _ in range(_PER_SIZE)]
    del made


def peak_of(work: Callable[[], T]) -> tuple[T, int]:
    """``work()``'s result and the peak in bytes of what it allocated while it ran."""
    settle_free_lists()
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
