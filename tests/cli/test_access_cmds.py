"""`blocks server init`, `blocks tokens ...`, `blocks policies ...`: the token is printed once
and never again; bad policies name the JSON path; exit codes."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.access.store import AccessStore
from blocks.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(blocks_home: Path) -> Path:
    Registry(Settings(home=blocks_home)).init()
    return blocks_home


def _authenticate(home: Path, token: str) -> str:
    reg = Registry(Settings(home=home))
    try:
        return AccessStore(reg.store, reg.sealer).authenticate(token).name
    finally:
        reg.close()


def test_server_init_prints_the_admin_token_once_and_refuses_a_second_time(
    home: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, err = run(capsys, "server", "init", "--owner", "ops")
    assert code == 0
    token = out.strip()
    assert token.startswith("blk_") and out == token + "\n"
    assert "only time the token is shown" in err and token not in err
    assert _authenticate(home, token) == "admin"
    code, out, err = run(capsys, "server", "init")
    assert code == 1 and "already initialised" in err and out == ""
    for argv in (["tokens", "ls"], ["tokens", "ls", "--json"], ["policies", "ls"],
                 ["policies", "get", "admin"], ["verify"]):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert token not in out + err and token[4:] not in out + err
    assert token[4:] not in caplog.text


def test_tokens_create_ls_revoke(home: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, "server", "init")
    policy = {"blocks": {"secret/app-*": ["read"]}, "pools": {"etl": ["read-metadata"]}}
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(policy).encode())))
    code, out, err = run(capsys, "policies", "put", "app-read", "--file", "-")
    assert (code, out) == (0, "") and "created access policy 'app-read'" in err
    code, out, err = run(capsys, "tokens", "create", "worker", "--policy", "app-read",
                         "--ttl", "30d", "--owner", "etl", "--json")
    assert code == 0, err
    created = json.loads(out)
    token = created["token"]
    assert created["policies"] == ["app-read"] and created["state"] == "active"
    assert created["expires_at"] is not None
    code, out, _ = run(capsys, "tokens", "ls", "--json")
    listed = {t["name"]: t for t in json.loads(out)}
    assert set(listed) == {"admin", "worker"} and "token" not in listed["worker"]
    assert token not in out
    code, out, _ = run(capsys, "tokens", "ls")
    assert out.splitlines()[0].split() == ["NAME", "ID", "OWNER", "POLICIES", "STATE",
                                           "EXPIRES", "LAST", "USED"]
    assert _authenticate(home, token) == "worker"
    code, _, err = run(capsys, "policies", "rm", "app-read", "--yes")
    assert code == 1 and "used by token(s) worker" in err
    code, _, err = run(capsys, "tokens", "revoke", "worker")
    assert code == 2 and "pass --yes" in err  # not confirmed: nothing changed
    code, _, err = run(capsys, "tokens", "revoke", created["id"], "--yes")
    assert code == 0 and "revoked token 'worker'" in err
    code, out, _ = run(capsys, "tokens", "ls", "--json")
    assert {t["name"]: t["state"] for t in json.loads(out)}["worker"] == "revoked"
    assert run(capsys, "policies", "rm", "app-read", "--yes")[0] == 0


def test_a_bad_policy_file_names_the_path_and_the_fix(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"blocks": {"secret/app-*": ["reed"]}, "pool": {}}))
    code, _, err = run(capsys, "policies", "put", "app", "--file", str(path))
    assert code == 1
    assert "$.pool: unknown key; a policy has only blocks, pools, admin, description" in err
    assert "$.blocks[\"secret/app-*\"][0]: 'reed' is not a capability; use one of read" in err
    code, _, err = run(capsys, "tokens", "create", "w", "--policy", "app")
    assert code == 1 and "no access policy 'app'" in err
    code, _, err = run(capsys, "tokens", "create", "w", "--policy", "app", "--ttl", "1y")
    assert code == 1 and "--ttl" in err
