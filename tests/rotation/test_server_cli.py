"""``blocks rotate``, ``blocks rotation``, ``blocks verify`` and ``blocks keys status`` against a
``blocks server``, in a process that has only ``BLOCKS_API_URL`` and ``BLOCKS_API_TOKEN``; the
keyring-changing commands refuse, saying where to run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.access.store import AccessStore
from blocks.codec import secret_values
from blocks.rotation import rotation_events
from tests.cli_process import run_cli
from tests.server_fixtures import serve

FIRST = "first-value-0123456789"


def _env(home: Path, url: str, token: str = "no-token") -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), BLOCKS_API_URL=url, BLOCKS_API_TOKEN=token)
    return env


@pytest.fixture
def admin_server(served_registry: Registry) -> Iterator[tuple[str, str]]:
    """A blocks server checking real tokens, and its first admin token."""
    token, _ = AccessStore(served_registry.store, served_registry.sealer).initialize()
    with serve(served_registry) as url:
        yield url, token


def test_the_cli_rotates_verifies_and_reports_through_the_server(
    admin_server: tuple[str, str], served_registry: Registry, tmp_path: Path
) -> None:
    url, token = admin_server
    home = tmp_path / "client-home"
    home.mkdir()
    Secret(value=FIRST).save("tok", registry=served_registry)

    def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = run_cli(args, env=_env(home, url, token), timeout=120)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        outputs.append(done.stdout + done.stderr)
        return done

    outputs: list[str] = []
    cli("rotation", "set", "secret/tok", "--rotator", "generated", "--every", "1d",
        "--grace", "0s")
    assert "rotated secret/tok: version 2 is current" in cli("rotate", "secret/tok",
                                                             "--now").stderr
    assert json.loads(cli("rotate", "--due", "--json").stdout) == []
    (row,) = json.loads(cli("rotation", "ls", "--json").stdout)
    assert row["ref"] == "secret/tok" and row["schedule"] == "every 1d"
    shown = json.loads(cli("rotation", "show", "secret/tok", "--json").stdout)
    assert shown["stages"] == {"current": 2}  # grace 0s: the previous one was revoked
    assert [e["step"] for e in shown["events"]][-2:] == ["promote", "revoke"]
    assert "nothing to cancel" in cli("rotate", "secret/tok", "--cancel", code=1).stderr
    report = json.loads(cli("verify", "--json").stdout)
    assert report["ok"] is True and report["checked"]["versions"] == 2
    status = json.loads(cli("keys", "status", "--json").stdout)
    assert status["provider"] == "local" and status["terms"][0]["versions"] == 2
    cli("rotation", "unset", "secret/tok")
    assert "has no rotation policy" in cli("rotation", "unset", "secret/tok", code=1).stderr

    for args in (["keys", "rotate"], ["keys", "rewrap"], ["keys", "retire", "1", "--yes"],
                 ["keys", "rotate-master", "--to", "local"]):
        refused = cli(*args, code=1)
        assert "where the blocks server runs" in refused.stderr, (args, refused.stderr)
    assert served_registry.keys_status().terms[0].term == 1  # nothing changed

    text = "\n".join(outputs)
    values = {FIRST}
    for info in served_registry.history("secret/tok"):
        if not info.shredded:
            block = served_registry.load("secret/tok", version=info.version)
            values |= set(secret_values(block))
    assert len(values) == 2
    for value in (*values, token):
        assert value not in text
    assert {e.actor for e in rotation_events("secret/tok", registry=served_registry)} == {
        "cli:admin"}  # the kind from the CLI, the name from the token
    assert list(home.iterdir()) == []  # no local registry was made


@pytest.mark.parametrize("args", [["rotate", "--due"], ["verify"], ["keys", "status"]])
def test_a_server_that_is_not_there_is_a_clear_error(tmp_path: Path, args: list[str]) -> None:
    from tests.servers import free_port

    env = _env(tmp_path, f"http://127.0.0.1:{free_port()}")
    done = subprocess.run([sys.executable, "-m", "blocks.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "127.0.0.1" in done.stderr
