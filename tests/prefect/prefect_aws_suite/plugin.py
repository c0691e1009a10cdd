"""pytest plugin of the prepared prefect-aws suite (loaded as ``-p blocks_suite_plugin``).

Leaves out what the file named by ``BLOCKS_SUITE_EXCLUDED`` lists (see excluded.txt): a file or
folder entry is not collected at all (its imports need prefect-aws modules Blocks has no
counterpart of); a test entry deselects that node id and its parametrizations. An entry that
matches nothing (in a file that was collected) fails the run, so the list cannot go stale
silently.

Also gives every botocore session of the run one data loader per search path (see
:func:`pytest_configure`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest


class _SearchPaths(list[str]):
    """A loader's search paths that take each path once: every ``boto3.Session`` appends
    boto3's data folder to its loader's paths, which would grow a shared loader's list by one
    path per session."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def _shared_loader(create: Any) -> Any:
    @functools.cache
    def loader(search_path_string: str | None = None) -> Any:
        made = create(search_path_string)
        made._search_paths = _SearchPaths(made.search_paths)
        return made
    return loader


def pytest_configure(config: pytest.Config) -> None:
    """Share botocore's data loader between sessions (one per search path): prefect-aws's
    fixtures make a new boto3 session for nearly every test, and each new session's loader
    parsed the S3 service model and the endpoint rules from JSON again, a third of the suite's
    CPU time (profiled; 68 s -> 31 s of CPU on two workers). A loader already hands the same
    parsed objects to every client of its session, so sharing it changes no behaviour."""
    import botocore.session

    botocore.session.create_loader = _shared_loader(botocore.session.create_loader)


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
