"""Read-only commands on a home with no registry say so and create nothing (issue 12, point 4)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from blocks.cli.main import build_parser, main
from blocks.cli.parser import walk

READ_ONLY = [(path, parser) for path, parser in walk(build_parser())
             if parser.get_default("read_only")]


def _argv(path: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """The command with a sample value for each positional argument."""
    values = []
    for action in parser._actions:
        if action.option_strings or action.nargs in ("?", "*"):
            continue
        values.append("secret/x" if action.metavar == "SLUG/NAME" else "x")
    return [*path, *values]


def test_the_read_only_commands_are_marked() -> None:
    marked = {" ".join(path) for path, _ in READ_ONLY}
    assert {"ls", "inspect", "history", "keys status", "pools ls", "pools inspect",
            "pools history", "pools render", "pools queues ls",
            "pools queues inspect"} <= marked
    assert not marked & {"init", "save", "rm", "rollback", "keys rotate", "pools create"}


@pytest.mark.parametrize(("path", "parser"), READ_ONLY, ids=[" ".join(p) for p, _ in READ_ONLY])
def test_read_only_command_without_registry_says_how_to_create_one(
    path: tuple[str, ...], parser: argparse.ArgumentParser, blocks_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(_argv(path, parser))
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == (f"error: no registry at {blocks_home / 'blocks.db'} (BLOCKS_HOME={blocks_home});"
                   " create one with 'blocks init', or point BLOCKS_HOME or BLOCKS_DATABASE_URL"
                   " at an existing one\n")
    assert not blocks_home.exists()  # no database, no master key, no directory


def test_read_only_command_in_an_existing_empty_home_creates_no_file(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks_home.mkdir()
    assert main(["keys", "status"]) == 1
    assert "blocks init" in capsys.readouterr().err
    assert os.listdir(blocks_home) == []


@pytest.mark.parametrize("argv", [["types"], ["types", "secret"], ["types", "--json"],
                                  ["pools", "default-template", "process"], ["--help"],
                                  ["completion", "bash"]])
def test_commands_that_need_no_registry_work_and_create_nothing(
    argv: list[str], blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out
    assert not blocks_home.exists()


def test_after_init_read_only_commands_work(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    assert main(["ls"]) == 0
    assert main(["keys", "status"]) == 0
    assert main(["pools", "ls"]) == 0
    assert "no registry" not in capsys.readouterr().err


@pytest.mark.postgres
def test_read_only_command_on_an_empty_postgres_database_creates_no_table(
    blocks_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    monkeypatch.setenv("BLOCKS_DATABASE_URL", pg_url)
    assert main(["ls"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no registry at postgresql+psycopg://") and "blocks init" in err
    plain = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_schema = current_schema()").fetchone()
    assert tables == (0,)
    assert not blocks_home.exists()
    assert main(["init"]) == 0 and main(["ls"]) == 0
