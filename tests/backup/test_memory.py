"""Backup and restore stream: their peak memory does not grow with the number of blocks."""

from __future__ import annotations

import gc
from pathlib import Path

from blocks import Registry, Secret
from blocks.backup.dump import backup
from tests.backup.helpers import FAST, PASSPHRASE, new_registry, read_backup
from tests.peak_memory import peak_of


class Sink:
    """A file that keeps nothing (a BytesIO would hold the whole backup)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _fill(reg: Registry, start: int, count: int) -> None:
    for i in range(start, start + count):
        for v in range(2):
            reg.save(Secret(value=f"{i:05d}-{v}-" + "v" * 2000), f"s{i}", overwrite=True)


def _peak(work) -> int:  # type: ignore[no-untyped-def]
    return peak_of(work)[1]


def test_peak_memory_does_not_grow_with_the_registry(sqlite_registry: Registry,
                                                     tmp_path: Path) -> None:
    peaks = []
    restores = []
    for round_, (start, count) in enumerate([(0, 100), (100, 900)]):
        _fill(sqlite_registry, start, count)
        sink = Sink()
        peaks.append(_peak(lambda s=sink: backup(sqlite_registry, s, PASSPHRASE, log2_n=FAST)))
        assert sink.size > (start + count) * 2 * 2000
        path = tmp_path / f"b{round_}.bkp"
        with open(path, "wb") as out:
            backup(sqlite_registry, out, PASSPHRASE, log2_n=FAST)
        target = new_registry(tmp_path / f"t{round_}")
        target.init()
        _ = target.keyring.current_term
        restores.append(_peak(lambda p=path, t=target: read_backup(t, p)))
        assert len(target.list()) == start + count
        target.close()
    # ten times the blocks (2,000 versions against 200), about the same peak
    assert peaks[1] < peaks[0] * 1.25 + 64 * 1024, peaks
    assert restores[1] < restores[0] * 1.25 + 64 * 1024, restores


def test_the_measure_does_not_depend_on_what_ran_before(sqlite_registry: Registry) -> None:
    """The same backup measures the same whether the interpreter's free lists are empty (a
    full collection just ran, as other tests do) or full (tests/peak_memory.py)."""
    _fill(sqlite_registry, 0, 1000)

    def work() -> None:
        backup(sqlite_registry, Sink(), PASSPHRASE, log2_n=FAST)

    work()  # imports and first-use caches out of the way
    peaks = []
    for _ in range(2):
        gc.collect()  # empties the free lists
        peaks.append(_peak(work))
        peaks.append(_peak(work))  # right after a run that left them full
    assert max(peaks) < min(peaks) * 1.1, peaks
