"""``blocks completion bash|zsh|fish``: the scripts complete in the real shells.

bash: the script is sourced and ``_blocks`` called with ``COMP_WORDS``/``COMP_CWORD``, as
bash does on TAB. fish: ``complete -C`` prints what fish would offer. zsh: an interactive zsh
on a pseudo-terminal (``zpty``) with ``compinit``, where TAB is typed. zsh and fish are
installed by ``scripts/test.sh``; without them these tests skip, and fail under ``CI=true``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import catalog
from blocks.cli.completion import script
from blocks.cli.main import build_parser, main
from blocks.cli.parser import BlocksParser, subcommands, walk

BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}


def _shell(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (scripts/test.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh", "fish"):
        out[shell] = root / f"blocks.{shell}"
        out[shell].write_text(script(shell, build_parser(), catalog.all_types()))
    return out


def bash_complete(path: Path, *words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash offers for ``words`` (the last one is being typed)."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (f"source {path}; COMP_WORDS=({quoted}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ));"
               ' COMPREPLY=(); _blocks; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run([_shell("bash"), "--norc", "-c", program], capture_output=True,
                          text=True, timeout=30, env=env or ENV)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_completion_command_prints_each_script(capsys: pytest.CaptureFixture[str]) -> None:
    for shell in ("bash", "zsh", "fish"):
        assert main(["completion", shell]) == 0
        assert f"# {shell} completion for blocks" in capsys.readouterr().out
    assert main(["completion", "tcsh"]) == 2


def test_bash_completes_commands_subcommands_options_and_choices(
    scripts: dict[str, Path]
) -> None:
    bash = scripts["bash"]
    assert bash_complete(bash, "blocks", "") == list(subcommands(build_parser()))
    assert bash_complete(bash, "blocks", "ro") == ["rollback", "rotate", "rotation"]
    assert bash_complete(bash, "blocks", "keys", "r") == [
        "rotate", "rewrap", "retire", "rotate-master"]
    assert bash_complete(bash, "blocks", "--json", "keys", "st") == ["status"]
    # The value of --key-provider is not taken for a command.
    assert bash_complete(bash, "blocks", "keys", "--key-provider", "local", "st") == ["status"]
    assert bash_complete(bash, "blocks", "ls", "--j") == ["--json"]
    assert sorted(bash_complete(bash, "blocks", "rm", "secret/x", "--")) == [
        "--force", "--help", "--json", "--list-deleted", "--now", "--recovery-window", "--undo",
        "--yes"]
    assert bash_complete(bash, "blocks", "pools", "create", "p", "--type", "k") == ["kubernetes"]
    assert bash_complete(bash, "blocks", "types", "s3") == ["s3-bucket"]
    assert bash_complete(bash, "blocks", "completion", "") == ["bash", "zsh", "fish"]
    assert bash_complete(bash, "blocks", "pools", "queues", "p") == ["pause"]


def test_bash_leaves_file_values_to_the_shell(scripts: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "doc.json").write_text("{}")
    program = (f"source {scripts['bash']}; cd {tmp_path}; "
               "COMP_WORDS=(blocks save secret/x --file do); COMP_CWORD=4; _blocks; "
               'echo "n=${#COMPREPLY[@]}"')
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True,
                          timeout=30, env=ENV)
    # compopt -o default: bash's own file-name completion fills it in (no candidates of ours).
    assert done.stdout.strip() == "n=0" and done.stderr == ""


def test_bash_completes_every_command_path(scripts: dict[str, Path]) -> None:
    for path, parser in walk(build_parser()):
        names = list(subcommands(parser))
        if names:
            assert bash_complete(scripts["bash"], "blocks", *path, "") == names, path


def test_new_commands_complete_without_touching_the_completion_code(tmp_path: Path) -> None:
    root = BlocksParser(prog="blocks")
    sub = root.add_subparsers(dest="command")
    frob = sub.add_parser("frob", help="a command added later").add_subparsers(dest="frob_cmd")
    zap = frob.add_parser("zap", help="its sub-command")
    zap.add_argument("--mode", choices=["fast", "slow"])
    zap.add_argument("--out", metavar="FILE")
    path = tmp_path / "c.bash"
    path.write_text(script("bash", root))
    assert bash_complete(path, "blocks", "f") == ["frob"]
    assert bash_complete(path, "blocks", "frob", "") == ["zap"]
    assert bash_complete(path, "blocks", "frob", "zap", "--") == ["--help", "--mode", "--out"]
    assert bash_complete(path, "blocks", "frob", "zap", "--mode", "") == ["fast", "slow"]
    assert bash_complete(path, "blocks", "frob", "zap", "--out", "x", "--mode", "s") == ["slow"]


def fish_complete(path: Path, line: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run([_shell("fish"), "--no-config", "-c",
                           f"source {path}; complete -C {_fish_quote(line)}"],
                          capture_output=True, text=True, timeout=30, env=env or ENV)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [row.split("\t")[0] for row in done.stdout.splitlines()]


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_fish_completes_commands_options_and_choices(
    scripts: dict[str, Path], tmp_path: Path
) -> None:
    fish = scripts["fish"]
    assert sorted(fish_complete(fish, "blocks ")) == sorted(subcommands(build_parser()))
    assert fish_complete(fish, "blocks keys r") == ["retire", "rewrap", "rotate", "rotate-master"]
    assert fish_complete(fish, "blocks keys --key-provider local st") == ["status"]
    assert fish_complete(fish, "blocks pools create p --type k") == ["kubernetes"]
    assert fish_complete(fish, "blocks types s3") == ["s3-bucket"]
    assert "--yes" in fish_complete(fish, "blocks rm secret/x --")
    (tmp_path / "doc.json").write_text("{}")
    assert fish_complete(fish, f"blocks save secret/x --file {tmp_path}/do") == [
        f"{tmp_path}/doc.json"]


ZPTY = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; autoload -U compinit; compinit -u -d $ZDUMP; source $SCRIPT; print READY"
out=""
for i in {1..600}; do
  zpty -r -t z chunk && out+=$chunk
  [[ $out == *READY*'> '* ]] && break
  sleep 0.05
done
zpty -n -w z "$LINE"$'\t'
sleep 0.5
zpty -n -w z $'\t'
got=""
for i in {1..300}; do
  zpty -r -t z chunk && got+=$chunk
  [[ $got == *"$EXPECT"* ]] && break
  sleep 0.05
done
zpty -d z
print -r -- "$got"
"""


def zsh_complete(path: Path, line: str, expect: str, tmp_path: Path,
                 extra: dict[str, str] | None = None) -> str:
    env = {**ENV, **(extra or {}), "SCRIPT": str(path), "LINE": line, "EXPECT": expect,
           "ZDUMP": str(tmp_path / "zcompdump")}
    done = subprocess.run([_shell("zsh"), "-f", "-c", ZPTY], capture_output=True, text=True,
                          timeout=60, env=env)
    return done.stdout.replace("\r", "")


@pytest.mark.parametrize(("line", "expect"), [
    ("blocks keys rot", "rotate-master"),       # the list shows both matches
    ("blocks pools create p --type kub", "kubernetes"),
    ("blocks types s3-b", "s3-bucket"),
])
def test_zsh_completes_on_tab(
    line: str, expect: str, scripts: dict[str, Path], tmp_path: Path
) -> None:
    out = zsh_complete(scripts["zsh"], line, expect, tmp_path)
    assert expect in out, out


def test_zsh_lists_commands_with_their_help(scripts: dict[str, Path], tmp_path: Path) -> None:
    out = zsh_complete(scripts["zsh"], "blocks keys ", "re-wrap the keyring", tmp_path)
    assert "rotate-master" in out and "re-wrap the keyring" in out, out


def test_scripts_cover_hidden_parsers_only_through_the_tree() -> None:
    # Options argparse hides (help=SUPPRESS) are not offered.
    root = BlocksParser(prog="blocks")
    root.add_argument("--secret-flag", help=argparse.SUPPRESS)
    assert "--secret-flag" not in script("bash", root)


@pytest.fixture
def named_home(tmp_path: Path) -> dict[str, str]:
    """A registry with two blocks, a pool and a queue; the environment that points at it."""
    env = {**ENV, "BLOCKS_HOME": str(tmp_path / "home")}
    for argv, stdin in ((["init"], None),
                        (["save", "secret/db-pass", "--file", "-"], '{"value": "not-shown"}'),
                        (["save", "secret/api-key", "--file", "-"], '{"value": "not-shown"}'),
                        (["pools", "create", "etl", "--type", "process"], None),
                        (["pools", "queues", "create", "etl", "critical", "--priority", "2"],
                         None)):
        done = subprocess.run([f"{BIN}/blocks", *argv], input=stdin, capture_output=True,
                              text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
    return env


def test_bash_completes_block_pool_and_queue_names(
    scripts: dict[str, Path], named_home: dict[str, str]
) -> None:
    bash = scripts["bash"]
    assert bash_complete(bash, "blocks", "inspect", "sec", env=named_home) == [
        "secret/api-key", "secret/db-pass"]
    assert bash_complete(bash, "blocks", "rm", "--yes", "secret/d", env=named_home) == [
        "secret/db-pass"]
    assert bash_complete(bash, "blocks", "rotation", "show", "secret/a", env=named_home) == [
        "secret/api-key"]
    assert bash_complete(bash, "blocks", "pools", "inspect", "e", env=named_home) == ["etl"]
    assert bash_complete(bash, "blocks", "pools", "queues", "pause", "etl", "c",
                         env=named_home) == ["critical"]
    # A deleted block leaves completion at once; rm --undo offers it until it is shredded.
    done = subprocess.run([f"{BIN}/blocks", "rm", "secret/db-pass", "--yes"], env=named_home,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert bash_complete(bash, "blocks", "inspect", "sec", env=named_home) == ["secret/api-key"]
    assert bash_complete(bash, "blocks", "rm", "--undo", "sec", env=named_home) == [
        "secret/db-pass"]
    # A new name is not completed from existing ones, and values are never printed.
    assert bash_complete(bash, "blocks", "pools", "create", "e", env=named_home) == []
    assert "not-shown" not in " ".join(bash_complete(bash, "blocks", "inspect", "",
                                                     env=named_home))


def test_name_completion_creates_no_registry_and_prints_no_error(
    scripts: dict[str, Path], tmp_path: Path
) -> None:
    env = {**ENV, "BLOCKS_HOME": str(tmp_path / "nowhere")}
    assert bash_complete(scripts["bash"], "blocks", "inspect", "s", env=env) == []
    assert not (tmp_path / "nowhere").exists()


def test_fish_and_zsh_complete_block_names(
    scripts: dict[str, Path], named_home: dict[str, str], tmp_path: Path
) -> None:
    assert fish_complete(scripts["fish"], "blocks inspect secret/d", env=named_home) == [
        "secret/db-pass"]
    assert fish_complete(scripts["fish"], "blocks pools queues ls e", env=named_home) == ["etl"]
    out = zsh_complete(scripts["zsh"], "blocks history secret/a", "secret/api-key", tmp_path,
                       extra={"BLOCKS_HOME": named_home["BLOCKS_HOME"]})
    assert "secret/api-key" in out, out
