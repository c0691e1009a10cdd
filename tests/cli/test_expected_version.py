"""Issue 17, point 7: ``--expected-version -1`` (and ``expected_version=-1`` in the API) is a
usage / validation error naming the option, never reported as a conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import ConflictError, InvalidArgument, Registry, Secret, WorkPool
from blocks.cli.main import main

CLI_CASES = {
    "save": ["save", "secret/api", "--file", "{doc}", "--overwrite", "--expected-version", "-1"],
    "mv": ["mv", "secret/api", "api2", "--expected-version", "-1"],
    "rollback": ["rollback", "secret/api", "--version", "1", "--expected-version", "-1"],
    "pools-update": ["pools", "update", "etl", "--expected-version", "-1"],
    "queues-update": ["pools", "queues", "update", "etl", "default", "--priority", "2",
                      "--expected-version", "-1"],
}


@pytest.mark.parametrize("argv", CLI_CASES.values(), ids=CLI_CASES.keys())
def test_negative_expected_version_is_a_usage_error(
    sqlite_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    Secret(value="one").save("api", registry=sqlite_registry)
    WorkPool(name="etl", type="process").save(registry=sqlite_registry)
    doc = tmp_path / "doc.json"
    doc.write_text('{"value": "two"}')
    capsys.readouterr()
    assert main([a.replace("{doc}", str(doc)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "--expected-version" in err and "not a version number" in err
    assert "someone else wrote first" not in err and "conflict" not in err.lower()
    assert [v.version for v in sqlite_registry.history("secret/api")] == [1]


def test_negative_expected_version_in_the_api_is_invalid_not_a_conflict(
    sqlite_registry: Registry,
) -> None:
    reg = sqlite_registry
    Secret(value="one").save("api", registry=reg)
    pool = WorkPool(name="etl", type="process").save(registry=reg)
    calls = {
        "save": lambda: reg.save(Secret(value="two"), "api", expected_version=-1),
        "save-new": lambda: reg.save(Secret(value="two"), "new", expected_version=-1),
        "rename": lambda: reg.rename("secret/api", "api2", expected_version=-1),
        "rollback": lambda: reg.rollback("secret/api", 1, expected_version=-1),
        "pool": lambda: pool.save(expected_version=-1),
        "queue": lambda: pool.queue("default").save(expected_version=-1),
    }
    for what, call in calls.items():
        with pytest.raises(InvalidArgument, match="expected_version must be a version number") \
                as caught:
            call()
        assert not isinstance(caught.value, ConflictError), what
        assert isinstance(caught.value, ValueError), what
    assert [s.name for s in reg.list()] == ["api"]
