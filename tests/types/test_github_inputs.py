"""Issue 13, points 6 and 11: no credential in ``repository_url``; ``get_directory`` into a
reused ``local_path`` never writes through a symlink left there by an earlier checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from blocks import GitHubRepository, Registry, ValidationError
from blocks.cli.main import main

TOKEN = "ghp_TokenAsUserName0123456789abcdefABCD"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.mark.parametrize("url", [
    f"https://{TOKEN}@github.com/org/flows.git",
    f"https://x-access-token:{TOKEN}@github.com/org/flows.git",
    f"http://{TOKEN}:x-oauth-basic@github.com/org/flows.git",
    f"https://{TOKEN}:@github.com/org/flows.git",
    f"ssh://git:{TOKEN}@github.com/org/flows.git",
    f"git://{TOKEN}@github.com/org/flows.git",
    f"file://{TOKEN}@localhost/srv/flows.git",
])
def test_credential_in_repository_url_is_refused_pointing_at_credentials(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GitHubRepository(repository_url=url)
    message = str(caught.value)
    assert "repository_url" in message and "credentials" in message
    assert TOKEN not in message and TOKEN not in repr(caught.value.errors)


@pytest.mark.parametrize("url", [
    "https://github.com/org/flows.git",
    "ssh://git@github.com/org/flows.git",
    "git@github.com:org/flows.git",
    "file:///srv/flows.git",
])
def test_repository_url_without_credentials_is_accepted(url: str) -> None:
    assert GitHubRepository(repository_url=url).repository_url == url


def test_cli_save_with_a_token_in_the_url_is_refused(
    blocks_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "repo.json"
    doc.write_text(f'{{"repository_url": "https://{TOKEN}@github.com/o/r.git"}}')
    assert main(["save", "github-repository/flows", "-f", str(doc)]) == 1
    err = capsys.readouterr().err
    assert "repository_url" in err and "credentials" in err and TOKEN not in err
    assert Registry().list() == []


# -- symlinks left in a reused local_path ----------------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside local_path, with one file a hostile link points at."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "victim.txt").write_text("untouched\n")
    return path


@pytest.fixture
def hostile_repo(tmp_path: Path, outside: Path) -> str:
    """Branch ``links``: ``flows -> outside`` and ``README.md -> outside/victim.txt``;
    branch ``files``: a real ``flows/etl.py`` and ``README.md`` at the same paths."""
    work, bare = tmp_path / "work", tmp_path / "origin.git"
    _git("init", "--quiet", "-b", "links", str(work))
    (work / "flows").symlink_to(outside)
    (work / "README.md").symlink_to(outside / "victim.txt")
    _git("add", ".", cwd=work)
    _git("commit", "--quiet", "-m", "links", cwd=work)
    _git("checkout", "--quiet", "--orphan", "files", cwd=work)
    _git("rm", "-r", "--quiet", "--cached", ".", cwd=work)
    (work / "flows").unlink()
    (work / "README.md").unlink()
    (work / "flows").mkdir()
    (work / "flows" / "etl.py").write_text("print('etl')\n")
    (work / "README.md").write_text("overwritten?\n")
    _git("add", ".", cwd=work)
    _git("commit", "--quiet", "-m", "files", cwd=work)
    _git("clone", "--quiet", "--bare", str(work), str(bare))
    return bare.as_uri()


def _assert_outside_untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert (outside / "victim.txt").read_text() == "untouched\n"


def test_whole_checkout_into_reused_path_does_not_follow_old_symlinks(
    hostile_repo: str, outside: Path, tmp_path: Path
) -> None:
    local = tmp_path / "checkout"
    GitHubRepository(repository_url=hostile_repo, reference="links").get_directory(
        local_path=local)
    assert (local / "flows").is_symlink()  # the repository's own links are kept as links
    GitHubRepository(repository_url=hostile_repo, reference="files").get_directory(
        local_path=local)
    _assert_outside_untouched(outside)
    assert not (local / "flows").is_symlink() and (local / "flows" / "etl.py").is_file()
    assert not (local / "README.md").is_symlink()
    assert (local / "README.md").read_text() == "overwritten?\n"


def test_from_path_into_reused_path_does_not_follow_old_symlinks(
    hostile_repo: str, outside: Path, tmp_path: Path
) -> None:
    local = tmp_path / "checkout"
    GitHubRepository(repository_url=hostile_repo, reference="links").get_directory(
        local_path=local)
    files = GitHubRepository(repository_url=hostile_repo, reference="files")
    copied = files.get_directory(from_path="flows", local_path=local)
    assert copied == local / "flows"
    readme = files.get_directory(from_path="README.md", local_path=local)
    assert readme == local / "README.md" and readme.read_text() == "overwritten?\n"
    _assert_outside_untouched(outside)
    assert (local / "flows" / "etl.py").read_text() == "print('etl')\n"


def test_symlinked_directory_deeper_in_local_path_is_replaced_not_followed(
    hostile_repo: str, outside: Path, tmp_path: Path
) -> None:
    local = tmp_path / "checkout"
    local.mkdir()
    (local / "flows").symlink_to(outside)
    files = GitHubRepository(repository_url=hostile_repo, reference="files")
    files.get_directory(from_path="flows/etl.py", local_path=local)
    _assert_outside_untouched(outside)
    assert (local / "flows" / "etl.py").is_file() and not (local / "flows").is_symlink()
