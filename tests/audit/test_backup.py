"""A pruned audit trail backs up and restores, and still verifies (issue 21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from blocks import Secret
from tests.audit.helpers import problems


def test_a_pruned_trail_backs_up_and_restores(blocks_home: Path, tmp_path: Path) -> None:
    from blocks.store import chain
    from blocks.store.chain import NewEvent
    from tests.backup.helpers import new_registry, read_backup, write_backup

    source = new_registry(blocks_home / "a")
    source.init()
    Secret(value="pw").save("warehouse", registry=source)
    writer, sealer = source.store.writer, source.sealer
    with writer.transaction() as conn:
        chain.append(conn, writer, sealer, [NewEvent("rotation", "b1", datetime.now(UTC), "t",
                                                     "{}")])
    Secret(value="pw2").save("warehouse", registry=source, overwrite=True)
    assert source.audit.prune(datetime.now(UTC) + timedelta(seconds=5)) == 2
    Secret(value="pw3").save("warehouse", registry=source, overwrite=True)
    assert problems(source) == ([], [])
    file = tmp_path / "b.blocks-backup"
    write_backup(source, file)
    target = new_registry(blocks_home / "b")
    read_backup(target, file)
    assert problems(target) == ([], [])
    assert [e.action for e in target.audit.ls(oldest_first=True)] == ["prune", "write"]
    source.close()
    target.close()
