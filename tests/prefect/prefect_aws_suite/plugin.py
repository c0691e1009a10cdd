"""pytest plugin of the prepared prefect-aws suite (loaded as ``-p blocks_suite_plugin``).

Leaves out what the file named by ``BLOCKS_SUITE_EXCLUDED`` lists (see excluded.txt): a file or
folder entry is not collected at all (its imports need prefect-aws modules Blocks has no
counterpart of); a test entry deselects that node id and its parametrizations. An entry that
matches nothing (in a file that was collected) fails the run, so the list cannot go stale
silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _entries() -> list[str]:
    text = Path(os.environ["BLOCKS_SUITE_EXCLUDED"]).read_text()
    lines = (line.split(" # ", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _is_path(entry: str) -> bool:
    return entry.endswith(("/", ".py"))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    relative = collection_path.relative_to(config.rootpath).as_posix()
    for entry in filter(_is_path, _entries()):
        if relative == entry.rstrip("/"):
            return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = [entry for entry in _entries() if not _is_path(entry)]
    missing = [entry for entry in _entries()
               if _is_path(entry) and not (config.rootpath / entry).exists()]
    used: set[str] = set()
    kept, dropped = [], []
    for item in items:
        hit = next((entry for entry in tests if item.nodeid == entry
                    or item.nodeid.startswith((entry + "[", entry + "::"))), None)
        (dropped if hit else kept).append(item)
        if hit:
            used.add(hit)
    collected = {item.nodeid.split("::", 1)[0] for item in items}
    stale = missing + [entry for entry in tests
                       if entry not in used and entry.split("::", 1)[0] in collected]
    if stale:
        raise pytest.UsageError(f"excluded.txt entries that match no test: {stale}")
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept
