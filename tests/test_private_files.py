"""BLOCKS_HOME is 0700 and the SQLite database 0600 whoever creates them, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.private_files import private_dir, private_file

BIN = str(Path(sys.executable).parent)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _cli(home: Path, *argv: str) -> None:
    done = subprocess.run(
        ["bash", "-c", 'umask 000; exec blocks "$@"', "blocks", *argv], input="{\"value\": 1}",
        env={**os.environ, "BLOCKS_HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_python_registry_creates_a_private_home_and_database(
    tmp_path: Path, permissive_umask: None
) -> None:
    home = tmp_path / "a" / "home"
    registry = Registry(Settings(home=home))
    Secret(value="v").save("x", registry=registry)
    try:
        assert mode(home) == 0o700
        assert mode(home / "blocks.db") == 0o600
        assert mode(home / "master.key") == 0o600
        for extra in ("blocks.db-wal", "blocks.db-shm"):  # open while the registry is
            if (home / extra).exists():
                assert mode(home / extra) == 0o600, extra
        assert (home / "blocks.db-wal").exists()
    finally:
        registry.close()


def test_cli_init_creates_a_private_home_and_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli(home, "init")
    assert (mode(home), mode(home / "blocks.db"), mode(home / "master.key")) == (
        0o700, 0o600, 0o600)


def test_terraform_install_first_still_makes_a_private_home(tmp_path: Path) -> None:
    pytest.importorskip("tf", reason="the terraform extra is not installed")
    home = tmp_path / "home"
    _cli(home, "terraform", "install")
    assert mode(home) == 0o700
    _cli(home, "save", "secret/x", "--file", "-")
    assert mode(home) == 0o700 and mode(home / "blocks.db") == 0o600


def test_database_outside_the_home_is_private_too(tmp_path: Path, permissive_umask: None) -> None:
    db = tmp_path / "elsewhere" / "reg.db"
    registry = Registry(Settings(home=tmp_path / "home", database_url=f"sqlite:///{db}"))
    try:
        Secret(value="v").save("x", registry=registry)
        assert mode(db.parent) == 0o700 and mode(db) == 0o600
    finally:
        registry.close()


def test_existing_files_and_directories_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    (shared / "blocks.db").touch(mode=0o640)
    (shared / "blocks.db").chmod(0o640)
    private_dir(shared)
    private_file(shared / "blocks.db")
    assert mode(shared) == 0o755 and mode(shared / "blocks.db") == 0o640
