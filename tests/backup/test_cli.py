"""``blocks backup`` / ``blocks restore`` on the command line: messages, keys, files, secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import Registry
from blocks.cli.main import main
from tests.backup.helpers import ALL_SECRETS, populate

PASS = "correct horse battery staple"


@pytest.fixture
def home(sqlite_registry: Registry, blocks_home: Path, tmp_path: Path) -> Path:
    populate(sqlite_registry)
    sqlite_registry.close()
    (tmp_path / "pass").write_text(PASS + "\n")
    return blocks_home


def run(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, *argv: str
        ) -> tuple[int, str, str]:
    Registry.reset_default()
    with caplog.at_level(logging.DEBUG):
        code = main(list(argv))
    out, err = capsys.readouterr()
    for secret in ALL_SECRETS:
        assert secret not in out and secret not in err and secret not in caplog.text
    assert PASS not in out + err + caplog.text
    return code, out, err


def test_backup_then_restore_into_a_new_home_verifies(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    file, pw = str(tmp_path / "b.bkp"), str(tmp_path / "pass")
    code, _, err = run(capsys, caplog, "backup", file, "--passphrase-file", pw)
    assert code == 0, err
    assert "backed up 5 blocks (9 versions), 2 pools (3 versions), 3 queues, 1 rotation " \
           "policies" in err
    assert oct(os.stat(file).st_mode & 0o777) == "0o600"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path / "new-home"))
    code, out, err = run(capsys, caplog, "restore", file, "--passphrase-file", pw, "--json")
    assert code == 0, err
    assert json.loads(out)["counts"]["version"] == 9
    code, _, err = run(capsys, caplog, "verify")
    assert code == 0 and ": ok" in err
    code, _, err = run(capsys, caplog, "restore", file, "--passphrase-file", pw)
    assert code == 0 and "already restored from it; nothing to do" in err


def test_an_existing_file_is_kept_unless_overwrite(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    file = tmp_path / "b.bkp"
    file.write_bytes(b"keep me")
    code, _, err = run(capsys, caplog, "backup", str(file), "--passphrase-file",
                       str(tmp_path / "pass"))
    assert code == 1 and "exists; pass --overwrite" in err
    assert file.read_bytes() == b"keep me"
    code, _, err = run(capsys, caplog, "backup", str(file), "--passphrase-file",
                       str(tmp_path / "pass"), "--overwrite")
    assert code == 0, err
    assert file.read_bytes().startswith(b"BLOCKS-BACKUP")


def test_a_failed_backup_leaves_no_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg = Registry()
    with reg.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE work_pool SET current_version = 1 WHERE name = 'proc'")
    reg.close()
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "b.bkp"), "--passphrase-file",
                       str(tmp_path / "pass"))
    assert code == 1 and "integrity check failed for work pool 'proc'" in err
    assert sorted(p.name for p in tmp_path.iterdir() if "bkp" in p.name) == []


@pytest.mark.parametrize(("content", "message"), [
    ("", "is empty"), ("short\n", "shorter than 12 characters"),
])
def test_a_bad_passphrase_file_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, content: str, message: str,
) -> None:
    pw = tmp_path / "bad-pass"
    pw.write_text(content)
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "b.bkp"),
                       "--passphrase-file", str(pw))
    assert code == 1 and f"--passphrase-file {pw}" in err and message in err
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "b.bkp"),
                       "--passphrase-file", str(tmp_path / "missing"))
    assert code == 1 and "cannot read it" in err


def test_a_key_of_a_key_provider_and_never_the_master_key(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    file, key = str(tmp_path / "b.bkp"), f"local:{tmp_path / 'backup.key'}"
    own = f"local:{home / 'master.key'}"
    assert (home / "master.key").exists()
    code, _, err = run(capsys, caplog, "backup", file, "--backup-key", own)
    assert code == 1 and "is the registry's own master key" in err
    code, _, err = run(capsys, caplog, "backup", file, "--backup-key", key)
    assert code == 0, err
    assert oct(os.stat(tmp_path / "backup.key").st_mode & 0o777) == "0o600"
    other = f"local:{tmp_path / 'other.key'}"  # another key (made by another backup)
    assert run(capsys, caplog, "backup", str(tmp_path / "x.bkp"), "--backup-key", other)[0] == 0
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path / "new-home"))
    code, _, err = run(capsys, caplog, "restore", file, "--passphrase-file",
                       str(tmp_path / "pass"))
    assert code == 1 and "pass --backup-key with that key" in err
    code, _, err = run(capsys, caplog, "restore", file, "--backup-key", other)
    assert code == 1 and "does not open with the key local" in err
    assert not (tmp_path / "new-home" / "blocks.db").exists()  # a wrong key creates nothing
    code, _, err = run(capsys, caplog, "restore", file, "--backup-key", key)
    assert code == 0, err
    assert run(capsys, caplog, "verify")[0] == 0


def test_progress_bar_when_asked(home: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str],
                                 caplog: pytest.LogCaptureFixture) -> None:
    pw = str(tmp_path / "pass")
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "a.bkp"), "--passphrase-file", pw)
    assert code == 0 and "backing up [" not in err  # not a terminal
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "b.bkp"), "--passphrase-file", pw,
                       "--progress")
    assert code == 0 and "backing up [##############################]" in err


def test_a_pipe_from_backup_to_restore(home: Path, tmp_path: Path) -> None:
    blocks = str(Path(sys.executable).with_name("blocks"))
    env = {**os.environ, "BLOCKS_HOME": str(home)}
    pw = str(tmp_path / "pass")
    made = subprocess.run([blocks, "backup", "-", "--passphrase-file", pw], env=env,
                          capture_output=True, check=True, timeout=120)
    assert made.stdout.startswith(b"BLOCKS-BACKUP")
    env["BLOCKS_HOME"] = str(tmp_path / "piped")
    done = subprocess.run([blocks, "restore", "-", "--passphrase-file", pw], env=env,
                          input=made.stdout, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"restored 5 blocks (9 versions)" in done.stderr
    for secret in ALL_SECRETS:
        assert secret.encode() not in made.stderr + done.stdout + done.stderr


def test_a_key_is_required(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           caplog: pytest.LogCaptureFixture) -> None:
    code, _, err = run(capsys, caplog, "backup", str(tmp_path / "b.bkp"))
    assert code == 1 and "give --passphrase-file PATH or --backup-key PROVIDER:KEY" in err
    assert not (tmp_path / "b.bkp").exists()
