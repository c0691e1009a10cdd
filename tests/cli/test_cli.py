"""Every `blocks` command: output, --json, exit codes, and secrets masked unless asked for."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.cli.main import main
from tests.core.models import TestCreds  # noqa: F401 - registers the test types

PW = "cli-pw-unique-5e7d"


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
        ) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    assert PW not in err
    return code, out, err


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"user": "bob", "password": PW, "headers": {"X-Key": PW}}))
    return path


def test_init_reports_database_and_key(blocks_home: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    code, out, _ = run(capsys, "init", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["key_provider"] == "local" and data["current_term"] == 1
    assert data["database"].endswith("blocks.db")
    assert (blocks_home / "master.key").exists()


def test_save_inspect_masks_secrets_unless_asked(
    blocks_home: Path, doc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "save", "test-creds/prod", "--file", str(doc))[0] == 0
    code, out, _ = run(capsys, "inspect", "test-creds/prod")
    assert code == 0 and PW not in out and '"password": "********"' in out
    assert '"X-Key": "********"' in out
    code, out, _ = run(capsys, "--json", "inspect", "test-creds/prod")
    data = json.loads(out)
    assert data["data"]["password"] == "********" and data["version"] == 1
    assert data["secret_fields"] == ["password", "blob", "headers.*"]
    code, out, _ = run(capsys, "inspect", "test-creds/prod", "--show-secrets", "--json")
    assert json.loads(out)["data"]["password"] == PW


def test_save_from_stdin_and_versions(blocks_home: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    body = json.dumps({"user": "bob", "password": PW})
    assert run(capsys, "save", "test-creds/prod", "-f", "-", stdin=body)[0] == 0
    code, _, err = run(capsys, "save", "test-creds/prod", "-f", "-", stdin=body)
    assert code == 1 and "already exists" in err and "--overwrite" in err
    assert run(capsys, "save", "test-creds/prod", "-f", "-", "--overwrite", stdin=body)[0] == 0
    code, _, err = run(capsys, "save", "test-creds/prod", "-f", "-", "--expected-version", "1",
                       stdin=body)
    assert code == 1 and "someone else wrote first" in err
    code, out, _ = run(capsys, "history", "test-creds/prod", "--json")
    assert [v["version"] for v in json.loads(out)] == [1, 2]
    code, out, _ = run(capsys, "inspect", "test-creds/prod", "--version", "1", "--json")
    assert json.loads(out)["version"] == 1


def test_save_validation_error_names_field_not_value(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"user": "has space", "password": PW, "nope": PW})
    code, out, err = run(capsys, "save", "test-creds/x", "-f", "-", stdin=body)
    assert code == 1 and out == ""
    assert "test-creds/x: invalid document" in err
    assert "user: Value error, must not contain spaces" in err
    assert "nope: Extra inputs are not permitted" in err
    code, _, err = run(capsys, "save", "test-creds/x", "-f", "-", stdin='{"password": "' + PW)
    assert code == 1 and "not valid JSON (line 1" in err


def test_bad_name_and_unknown_type(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    code, _, err = run(capsys, "save", "test-creds/Bad_Name", "-f", "-", stdin="{}")
    assert code == 1 and "lowercase letters, digits and dashes" in err
    code, _, err = run(capsys, "inspect", "nope-type/x")
    assert code == 1 and "unknown block type 'nope-type'" in err
    code, _, err = run(capsys, "save", "test-creds/x", "-f", "/no/such/file")
    assert code == 1 and "cannot read /no/such/file" in err


def test_ls_types_rm_rollback(blocks_home: Path, doc: Path, capsys: pytest.CaptureFixture[str]
                              ) -> None:
    run(capsys, "save", "test-creds/b", "-f", str(doc))
    run(capsys, "save", "test-service/svc", "-f", "-",
        stdin=json.dumps({"url": "u", "creds": {"$ref": "test-creds/b"}}))
    code, out, _ = run(capsys, "ls")
    assert code == 0 and out.splitlines()[0].split() == ["TYPE", "NAME", "VERSION", "UPDATED"]
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["test-creds", "b"], ["test-service", "svc"]]
    code, out, _ = run(capsys, "ls", "test-service", "--json")
    assert [b["ref"] for b in json.loads(out)] == ["test-service/svc"]
    code, _, err = run(capsys, "rm", "test-creds/b", "--yes")
    assert code == 1 and "referenced by test-service/svc (field creds)" in err
    code, out, _ = run(capsys, "inspect", "test-service/svc", "--json")
    assert json.loads(out)["data"]["creds"] == {"$ref": "test-creds/b"}
    run(capsys, "save", "test-creds/b", "-f", "-", "--overwrite",
        stdin=json.dumps({"user": "alice", "password": PW}))
    code, out, err = run(capsys, "rollback", "test-creds/b", "--version", "1")
    assert code == 0 and "version 3 restores version 1" in err
    code, out, _ = run(capsys, "inspect", "test-creds/b", "--json")
    assert json.loads(out)["data"]["user"] == "bob"
    assert run(capsys, "rm", "test-service/svc", "--yes")[0] == 0
    assert run(capsys, "rm", "-y", "test-creds/b")[0] == 0
    code, out, _ = run(capsys, "ls", "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, "types", "--json")
    assert {"secret", "test-creds"} <= {t["slug"] for t in json.loads(out)}
    code, out, _ = run(capsys, "types", "test-creds", "--json")
    assert json.loads(out)["secret_fields"] == ["password", "blob", "headers.*"]


def test_usage_errors_exit_2(blocks_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "inspect")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys, "rollback", "test-creds/x")[0] == 2
    code, out, _ = run(capsys)  # `blocks` alone: help on stdout, exit 0 (as gh does)
    assert code == 0 and out.startswith("usage: blocks")


def test_real_process_exit_codes_and_no_secret_on_any_stream(blocks_home: Path) -> None:
    env = {**os.environ, "BLOCKS_HOME": str(blocks_home)}
    exe = [sys.executable, "-m", "blocks.cli"]
    body = json.dumps({"value": {"token": PW}})
    done = subprocess.run([*exe, "save", "secret/tok", "-f", "-"], input=body, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for argv, code in ((["inspect", "secret/tok"], 0), (["history", "secret/tok"], 0),
                       (["ls"], 0), (["inspect", "secret/nope"], 1), (["ls", "--bogus"], 2)):
        done = subprocess.run([*exe, *argv], env=env, capture_output=True, text=True,
                              check=False)
        assert done.returncode == code, (argv, done.stderr)
        assert PW not in done.stdout + done.stderr
