"""A read that checks one row against another sees them as of one moment: a save committed by
another process between its two reads never makes an intact block look altered."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import Registry, Secret, Settings


def test_history_read_while_another_process_saves_is_not_an_integrity_error(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    Secret(value="v1").save("raced", registry=registry)
    # Another registry object: its own connection, as another process (the CLI, a replica).
    other = Registry(Settings(home=registry.settings.home,
                              database_url=registry.settings.database_url))
    read_versions = registry.store.history
    saved: list[int] = []

    def versions_then_a_save_elsewhere(slug: str, name: str) -> Any:
        found = read_versions(slug, name)
        if not saved:  # right after the versions are read, before the head is
            saved.append(Secret(value="v2").save("raced", overwrite=True, registry=other).version)
        return found

    monkeypatch.setattr(registry.store, "history", versions_then_a_save_elsewhere)
    try:
        versions = registry.history("secret/raced")
    finally:
        other.close()
    assert saved == [2]
    assert [v.version for v in versions] == [1]  # as of the moment the read began
    monkeypatch.undo()
    assert [v.version for v in registry.history("secret/raced")] == [1, 2]
    assert registry.verify().ok
