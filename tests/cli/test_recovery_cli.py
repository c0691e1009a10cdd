"""``blocks rm`` with a recovery window, ``rm --undo``, ``rm --list-deleted``, ``ls --deleted``
and ``blocks gc`` through the command line."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import pytest

from blocks.cli.main import main

VALUE = "cli-recovery-secret-91f3"


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
        ) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    assert VALUE not in out + err
    return code, out, err


@pytest.fixture
def saved(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    for version in (1, 2):
        code, _, err = run(capsys, "save", "secret/api", "--file", "-",
                           *(["--overwrite"] if version == 2 else []),
                           stdin=json.dumps({"value": f"{VALUE}-{version}"}))
        assert code == 0, err


def test_rm_then_undo_brings_the_block_back(saved: None, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    code, _, err = run(capsys, "rm", "secret/api", "--yes")
    assert code == 0 and "deleted secret/api; it is shredded after" in err
    assert "'blocks rm --undo secret/api' brings it back" in err
    code, _, err = run(capsys, "inspect", "secret/api")
    assert code == 1 and "it was deleted and is shredded after" in err
    assert run(capsys, "ls")[1].strip() == "TYPE  NAME  VERSION  UPDATED"
    for argv in (("ls", "--deleted"), ("rm", "--list-deleted"), ("ls", "secret", "--deleted")):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and out.splitlines()[0].split() == ["TYPE", "NAME", "DELETED", "SHRED",
                                                             "AFTER"]
        assert out.splitlines()[1].split()[:2] == ["secret", "api"]
    code, out, _ = run(capsys, "--json", "rm", "--list-deleted")
    [row] = json.loads(out)
    assert row["ref"] == "secret/api" and row["shred_after"] > row["deleted_at"]
    code, _, err = run(capsys, "rm", "secret/api", "--undo")
    assert code == 0 and "brought back secret/api (version 2, same id)" in err
    code, out, _ = run(capsys, "--json", "history", "secret/api")
    assert [v["version"] for v in json.loads(out)] == [1, 2]
    assert run(capsys, "ls", "--deleted")[1].strip() == "TYPE  NAME  DELETED  SHRED AFTER"


def test_gc_shreds_what_is_due_and_a_save_brings_back_what_is_not(
    saved: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", "rm", "secret/api", "--yes", "--recovery-window", "1s")
    assert code == 0 and json.loads(out)["shred_after"]
    assert run(capsys, "save", "secret/other", "-f", "-", stdin='{"value": "x"}')[0] == 0
    assert run(capsys, "rm", "secret/other", "--yes", "--recovery-window", "30d")[0] == 0
    time.sleep(1.2)
    code, out, err = run(capsys, "gc", "--dry-run")
    assert code == 0 and out.split("\t")[0] == "secret/api" and "1 deleted block(s) due" in err
    code, out, err = run(capsys, "--json", "gc")
    assert code == 0 and [r["ref"] for r in json.loads(out)["shredded"]] == ["secret/api"]
    code, _, err = run(capsys, "rm", "secret/api", "--undo")
    assert code == 1 and "a shredded block cannot be brought back" in err
    code, _, err = run(capsys, "save", "secret/other", "-f", "-", stdin='{"value": "y"}')
    assert code == 0 and "saved secret/other version 2" in err
    assert run(capsys, "gc")[0] == 0
    assert run(capsys, "verify")[0] == 0


def test_rm_now_shreds_at_once_even_a_waiting_block(saved: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "rm", "secret/api", "--yes")[0] == 0
    code, _, err = run(capsys, "rm", "secret/api", "--now", "--yes")
    assert code == 0 and "deleted secret/api (shredded)" in err
    assert run(capsys, "ls", "--deleted")[1].count("\n") == 1
    code, _, err = run(capsys, "rm", "secret/api", "--now", "--yes")
    assert code == 1 and "no block secret/api" in err


@pytest.mark.parametrize(("argv", "message"), [
    (("rm", "secret/api", "--now", "--undo"), "not allowed with argument"),
    (("rm", "--undo"), "give SLUG/NAME"),
    (("rm", "secret/api", "--recovery-window", "45d", "--yes"),
     "invalid recovery window '45d': use 0 (shred at once) up to 30d"),
])
def test_bad_rm_arguments_are_refused_naming_the_fix(
    saved: None, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code in (1, 2) and message in err
    assert run(capsys, "inspect", "secret/api")[0] == 0
