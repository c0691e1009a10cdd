"""The CLI behaves like gh, vault and terraform (issue 12, point 4): --version, help when no
command is given, "did you mean" on typos, an example in every help text, a quiet exit when
the reader of stdout goes away, and ``blocks init`` saying what it did."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import blocks
from blocks import Registry, Secret, Settings
from blocks.cli.main import build_parser, main
from blocks.cli.parser import subcommands, walk

TREE = list(walk(build_parser()))
BIN = str(Path(sys.executable).parent)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"blocks {blocks.__version__}\n"
    assert blocks.__version__ == importlib.metadata.version("blocks-registry")


def test_blocks_alone_prints_help_on_stdout_and_exits_0(blocks_home: Path) -> None:
    done = subprocess.run([f"{BIN}/blocks"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BLOCKS_HOME": str(blocks_home)})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: blocks")
    for name in subcommands(build_parser()):
        assert f"\n    {name} " in done.stdout or f"\n    {name}\n" in done.stdout, name
    assert not blocks_home.exists()


@pytest.mark.parametrize("path", [p for p, parser in TREE if p and subcommands(parser)],
                         ids=" ".join)
def test_a_command_group_alone_prints_its_help(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = dict(TREE)[path]
    code, out, err = run(capsys, *path)
    assert code == 0 and err == ""
    assert out.startswith(f"usage: blocks {' '.join(path)}")
    assert all(name in out for name in subcommands(parser))


def test_every_command_has_an_example_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    missing = []
    for path, _parser in TREE:
        out = _help(capsys, path)
        examples = out.partition("\nexamples:\n")[2]
        command = " ".join(("blocks", *path))
        if not any(command in line for line in examples.splitlines()):
            missing.append(command)
    assert missing == [], f"add examples to blocks/cli/examples.py for: {missing}"


def _help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> str:
    code = main([*path, "--help"])
    assert code == 0
    return capsys.readouterr().out


def test_examples_are_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(capsys, ("keys", "purge"))
    assert ("examples:\n  blocks keys purge secret/api-token --version 1\n"
            "  blocks keys purge secret/api-token --version 1 --yes   # no prompt\n") in out


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["lss"], "'ls'"),
    (["inpsect", "secret/x"], "'inspect'"),
    (["keys", "rotat"], "'rotate'"),
    (["keys", "rotate-mastr"], "'rotate-master'"),
    (["pools", "queues", "craete", "p", "q"], "'create'"),
    (["ls", "--jsn"], "'--json'"),
    (["inspect", "secret/x", "--show-secrest"], "'--show-secrets'"),
    (["pools", "create", "p", "--type", "kubernets"], "'kubernetes'"),
    (["completion", "bsh"], "'bash'"),
])
def test_typos_get_a_did_you_mean(
    argv: list[str], suggestion: str, blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert f"did you mean {suggestion}" in err, err
    assert err.startswith("usage: blocks")
    assert not blocks_home.exists()


def test_every_subcommand_typo_is_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    # Generic over the parser tree: commands added later get suggestions too.
    for path, parser in TREE:
        for name in subcommands(parser):
            code, _, err = run(capsys, *path, name + "x")
            assert code == 2 and f"'{name}'" in err.partition("did you mean")[2], (path, err)


def test_unknown_command_without_a_close_match_points_at_help(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "xyzzy")
    assert code == 2
    assert "unknown command 'xyzzy'; see 'blocks --help'" in err
    assert "did you mean" not in err


def test_output_into_head_exits_quietly_like_git(tmp_path: Path) -> None:
    # 500 kB of output, written after a first line: the pipe (64 kB) fills, head exits after
    # one line, and the next write fails with EPIPE. The old code printed "error: internal
    # error (BrokenPipeError)" here and exited 1.
    home = tmp_path / "home"
    registry = Registry(Settings(home=home))
    Secret(value=[f"item-{i}" for i in range(30_000)]).save("big", registry=registry)
    registry.close()
    done = subprocess.run(
        ["bash", "-c", "set -o pipefail; blocks inspect secret/big --show-secrets | head -1"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "BLOCKS_HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}"},
    )
    assert done.stderr == ""  # no "internal error (BrokenPipeError)", no "Exception ignored"
    assert done.returncode == 141  # as `git log | head -1` under pipefail (128 + SIGPIPE)
    assert done.stdout.startswith("secret/big  version 1 of 1") and done.stdout.count("\n") == 1


def test_init_says_whether_it_created_or_found_the_registry(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0 and out.splitlines()[0] == "created a new registry"
    code, out, _ = run(capsys, "init")
    assert code == 0 and out.splitlines()[0] == "found the existing registry"
    code, out, _ = run(capsys, "init", "--json")
    assert json.loads(out)["created"] is False


def test_init_json_says_created_on_a_new_home(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", "init")
    assert code == 0 and json.loads(out)["created"] is True
