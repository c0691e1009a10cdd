"""``blocks verify``: every direct-SQL attack is reported; a clean registry passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.pools import WorkPool
from blocks.verify import verify
from tests.core.models import TestCreds, TestService
from tests.store.tamper import tamper

PW = "verify-secret-4e5f"


def fill(reg: Registry) -> None:
    reg.save(TestCreds(user="a", password=PW), "a")
    reg.save(TestCreds(user="a", password=PW + "2"), "a", overwrite=True)
    reg.save(TestCreds(user="b", password=PW + "b"), "b")
    reg.save(TestService(url="u", creds=reg.load("test-creds/b")), "svc")
    pool = WorkPool(name="proc", type="process").save(registry=reg)
    pool.create_queue("critical", registry=reg)
    Secret(value=PW).save("db-pass", registry=reg)


def swap(column: str, a: str, b: str) -> list[str]:
    return [
        f"UPDATE block SET {column} = 'tmp' WHERE {column} = '{a}'",
        f"UPDATE block SET {column} = '{a}' WHERE {column} = '{b}'",
        f"UPDATE block SET {column} = '{b}' WHERE {column} = 'tmp'",
    ]


def ids(reg: Registry) -> tuple[str, str]:
    return reg.summary("test-creds/a").id, reg.summary("test-creds/b").id


ATTACKS: dict[str, Callable[[Registry], list[str]]] = {
    "pool document": lambda r: [
        "UPDATE work_pool_version SET document = replace(document, 'process', 'evil')"
    ],
    "current pointer": lambda r: ["UPDATE block SET current_version = 1 WHERE name = 'a'"],
    "deleted newer version": lambda r: [
        f"DELETE FROM block_version WHERE version = 2 AND block_id = '{ids(r)[0]}'"
    ],
    "swapped names": lambda r: swap("name", "a", "b"),
    "swapped ids": lambda r: swap("id", *ids(r)),
    "queue settings": lambda r: ["UPDATE work_queue SET priority = 99"],
}
EXPECTED = {
    "pool document": "work pool 'proc' version 1",
    "current pointer": "test-creds/a",
    "deleted newer version": "test-creds/a",
    "swapped names": "test-creds/a",
    "swapped ids": "test-creds/",
    "queue settings": "queue",
}


def test_a_clean_registry_verifies(registry: Registry) -> None:
    fill(registry)
    report = verify(registry)
    assert report.ok, report.problems
    assert report.checked["versions"] == 5 and report.checked["heads"] == 4
    assert report.checked["pool-versions"] == 1 and report.checked["queues"] == 2
    assert report.checked["references"] == 1 and report.checked["terms"] == 1


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_attack_is_reported(registry: Registry, attack: str) -> None:
    fill(registry)
    for statement in ATTACKS[attack](registry):
        tamper(registry.store.url, statement)
    report = verify(Registry(registry.settings))
    assert not report.ok
    text = json.dumps([p.__dict__ for p in report.problems])
    assert EXPECTED[attack] in text and PW not in text


def test_purged_versions_are_not_problems(registry: Registry) -> None:
    from blocks.key_management import KeyManager

    fill(registry)
    KeyManager(registry).purge("test-creds/a", 1)
    assert verify(registry).ok


def test_cli_verify_exit_codes_and_json(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = Registry(Settings(home=blocks_home))
    fill(reg)
    reg.close()
    assert main(["verify"]) == 0
    assert "ok" in capsys.readouterr().err
    tamper(reg.store.url, "UPDATE block SET current_version = 1 WHERE name = 'a'")
    assert main(["verify", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["problems"][0]["what"] == "test-creds/a (head)"
    assert main(["verify"]) == 1
    out_text = capsys.readouterr().out
    assert "test-creds/a (head): does not authenticate" in out_text and PW not in out_text


def test_cli_verify_counts_each_kind_once_in_its_plural(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary line said ``4 censuss`` beside ``4 censuses`` (the sealed census rows were
    counted twice, once under a misspelt plural) and each scheduled deletion twice."""
    import re

    from blocks.store.engine import read_only

    reg = Registry(Settings(home=blocks_home))
    fill(reg)
    reg.delete("secret/db-pass")  # in its recovery window: a sealed block_deletion row
    with read_only(reg.store.engine).connect() as conn:
        censuses = conn.exec_driver_sql("SELECT count(*) FROM sealed_census").scalar_one()
    reg.close()
    assert main(["verify"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("checked ") and line.endswith(": ok"), line
    counted = {noun: int(n) for n, noun in re.findall(r"(\d+) ([a-z-]+)", line)}
    assert not [noun for noun in counted if noun.endswith("ss")], line
    assert counted["censuses"] == censuses >= 3, line  # one per type, the mirrors, ...
    assert counted["deletions"] == 1, line


@pytest.mark.parametrize(("kind", "counted"), [
    ("census", "censuses"), ("access-policy", "access-policies"), ("head", "heads"),
    ("reference-row", "reference-rows"), ("event-chain", "event-chains"), ("key", "keys"),
])
def test_verify_plurals(kind: str, counted: str) -> None:
    from blocks.verify import plural

    assert plural(kind) == counted
