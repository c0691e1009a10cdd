"""``rm``, ``keys purge`` and ``keys retire`` ask on a terminal and take ``--yes`` in scripts."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import BlockNotFound
from blocks.key_management import KeyManager

DESTRUCTIVE = {
    "rm": ["rm", "secret/tok"],
    "keys purge": ["keys", "purge", "secret/tok", "--version", "1"],
    "keys retire": ["keys", "retire", "1"],
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A registry with secret/tok at version 2, and term 1 unused after a rotate + rewrap."""
    home = tmp_path / "home"
    registry = Registry(Settings(home=home))
    Secret(value="v1").save("tok", registry=registry)
    keys = KeyManager(registry)
    keys.rotate()
    Secret(value="v2").save("tok", overwrite=True, registry=registry)
    keys.rewrap()
    registry.close()
    return home


def _state(home: Path) -> tuple[bool, list[bool], list[int]]:
    """(secret/tok exists, purged flag per version, keyring terms)."""
    registry = Registry(Settings(home=home))
    try:
        try:
            purged = [v.shredded for v in registry.history("secret/tok")]
            exists = True
        except BlockNotFound:
            purged, exists = [], False
        terms = [t.term for t in KeyManager(registry).status().terms]
        return exists, purged, terms
    finally:
        registry.close()


def _cli(home: Path, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "blocks.cli", *argv], env={**os.environ, "BLOCKS_HOME": str(home)},
        capture_output=True, text=True, timeout=60, **kwargs,
    )


def _on_a_terminal(home: Path, argv: list[str], answer: str) -> tuple[int, str]:
    """Run with stdin on a pseudo-terminal, type ``answer`` at the prompt; (exit code, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "blocks.cli", *argv], stdin=slave, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "BLOCKS_HOME": str(home)}, text=True,
    )
    os.close(slave)
    try:
        assert proc.stderr is not None
        prompt = ""
        deadline = time.monotonic() + 60
        while not prompt.endswith("[y/N] ") and time.monotonic() < deadline:
            char = proc.stderr.read(1)
            if not char:
                break
            prompt += char
        assert prompt.endswith("[y/N] "), prompt
        os.write(master, answer.encode() + b"\n")
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, prompt + err


@pytest.mark.parametrize("command", sorted(DESTRUCTIVE))
def test_without_a_terminal_and_without_yes_nothing_happens(command: str, home: Path) -> None:
    before = _state(home)
    done = _cli(home, DESTRUCTIVE[command], stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "not confirmed, and stdin is not a terminal" in done.stderr
    assert "pass --yes" in done.stderr
    assert _state(home) == before


@pytest.mark.parametrize("command", sorted(DESTRUCTIVE))
def test_yes_goes_ahead_without_asking(command: str, home: Path) -> None:
    done = _cli(home, [*DESTRUCTIVE[command], "--yes"], stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "[y/N]" not in done.stderr
    exists, purged, terms = _state(home)
    expected = {"rm": (False, [], [1, 2]), "keys purge": (True, [True, False], [1, 2]),
                "keys retire": (True, [False, False], [2])}[command]
    assert (exists, purged, terms) == expected


@pytest.mark.parametrize("command", sorted(DESTRUCTIVE))
def test_terminal_prompt_no_keeps_everything(command: str, home: Path) -> None:
    before = _state(home)
    code, err = _on_a_terminal(home, DESTRUCTIVE[command], "n")
    assert code == 1 and "not confirmed; nothing was changed" in err
    assert _state(home) == before


def test_terminal_prompt_yes_deletes(home: Path) -> None:
    code, err = _on_a_terminal(home, DESTRUCTIVE["rm"], "y")
    assert err.startswith("delete secret/tok? It leaves loads and lists now; 'blocks rm --undo "
                          "secret/tok' brings it back within 7 day(s), then 'blocks gc' "
                          "shreds it. [y/N] ")
    assert code == 0 and "deleted secret/tok; it is shredded after" in err
    assert _state(home)[0] is False


def test_terminal_prompt_yes_shreds_with_now(home: Path) -> None:
    code, err = _on_a_terminal(home, [*DESTRUCTIVE["rm"], "--now"], "y")
    assert err.startswith("delete secret/tok? All its 2 version(s) are destroyed. [y/N] ")
    assert code == 0 and "deleted secret/tok (shredded)" in err
    assert _state(home)[0] is False


def test_terminal_prompt_yes_purges_and_retires(home: Path) -> None:
    code, err = _on_a_terminal(home, DESTRUCTIVE["keys purge"], "yes")
    assert err.startswith("purge secret/tok version 1? Its data key is destroyed")
    assert code == 0
    code, err = _on_a_terminal(home, DESTRUCTIVE["keys retire"], "Y")
    assert err.startswith("retire keyring term 1? Its key is deleted for good. [y/N] ")
    assert code == 0
    assert _state(home) == (True, [True, False], [2])


def test_rm_of_a_missing_block_fails_before_asking(home: Path) -> None:
    done = _cli(home, ["rm", "secret/nope"], stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and "no block secret/nope" in done.stderr
    assert "pass --yes" not in done.stderr
