"""Renaming blocks and work pools: same id, history kept, references and queues follow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.cli.main import main
from blocks.errors import BlockNotFound, ConflictError, InvalidName, WorkPoolNotFound
from blocks.pools import WorkPool
from tests.core.models import TestCreds, TestService

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

PW = "rename-pw-7d1c"


def creds() -> TestCreds:
    return TestCreds(user="bob", password=PW)


def test_rename_keeps_id_history_and_references(registry: Registry) -> None:
    first = registry.save(creds(), "old")
    registry.save(creds(), "old", overwrite=True)
    service = TestService(url="https://x", creds=registry.load("test-creds/old"))
    registry.save(service, "svc")

    renamed = registry.rename("test-creds/old", "new")

    assert (renamed.id, renamed.name, renamed.current_version) == (first.block_id, "new", 2)
    assert [v.version for v in registry.history("test-creds/new")] == [1, 2]
    assert registry.load("test-creds/new", version=1).password.get_secret_value() == PW
    with pytest.raises(BlockNotFound):
        registry.load("test-creds/old")
    loaded = registry.load("test-service/svc")
    assert isinstance(loaded, TestService) and loaded.creds.block_name == "new"
    assert registry.save(creds(), "old").version == 1  # the old name is free again


def test_rename_refuses_a_taken_name(registry: Registry) -> None:
    registry.save(creds(), "a")
    registry.save(creds(), "b")
    with pytest.raises(ConflictError, match="test-creds/b already exists"):
        registry.rename("test-creds/a", "b")
    assert registry.summary("test-creds/a").current_version == 1


def test_rename_errors(registry: Registry) -> None:
    registry.save(creds(), "a")
    with pytest.raises(BlockNotFound):
        registry.rename("test-creds/missing", "b")
    with pytest.raises(InvalidName):
        registry.rename("test-creds/a", "Not_Valid")
    with pytest.raises(ConflictError, match="not the expected 5"):
        registry.rename("test-creds/a", "b", expected_version=5)
    assert registry.rename("test-creds/a", "b", expected_version=1).name == "b"


def test_block_rename_delegates(registry: Registry) -> None:
    Secret(value=PW).save("s1", registry=registry)
    assert Secret.rename("s1", "s2", registry=registry).ref == "secret/s2"
    assert Secret.load("s2", registry=registry).get() == PW


def test_cli_mv(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Secret(value=PW).save("db-pass")
    assert main(["mv", "secret/db-pass", "db-password", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["ref"] == "secret/db-password" and PW not in out + err
    assert main(["mv", "secret/db-password", "secret/db-pw"]) == 0
    assert main(["mv", "secret/db-pw", "aws-credentials/x"]) == 1
    assert "type cannot change" in capsys.readouterr().err
    Secret(value=PW).save("other")
    assert main(["mv", "secret/db-pw", "other"]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.local_only("work pools through the server are the pools client's")
def test_pool_rename_keeps_history_and_queues(registry: Registry) -> None:
    pool = WorkPool(name="k8s", type="kubernetes", description="one").save(registry=registry)
    pool.description = "two"
    pool.save(registry=registry)
    pool.create_queue("critical", priority=1, registry=registry)

    renamed = WorkPool.rename("k8s", "k8s-prod", registry=registry)

    assert (renamed.name, renamed.version, renamed.description) == ("k8s-prod", 2, "two")
    assert [p.version for p in WorkPool.history("k8s-prod", registry=registry)] == [1, 2]
    assert sorted(q.name for q in renamed.queues()) == ["critical", "default"]
    assert renamed.queue("critical").pool == "k8s-prod"
    with pytest.raises(WorkPoolNotFound):
        WorkPool.load("k8s", registry=registry)
    WorkPool(name="other", type="process").save(registry=registry)
    with pytest.raises(ConflictError, match="already exists"):
        WorkPool.rename("k8s-prod", "other", registry=registry)
    with pytest.raises(WorkPoolNotFound):
        WorkPool.rename("nope", "x", registry=registry)
    with pytest.raises(InvalidName):
        WorkPool.rename("k8s-prod", "Bad Name", registry=registry)


def test_cli_pools_mv(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    WorkPool(name="local", type="process").save()
    assert main(["pools", "mv", "local", "local-2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "local-2"
    assert main(["pools", "queues", "ls", "local-2"]) == 0
