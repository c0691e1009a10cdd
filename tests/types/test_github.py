"""GitHubCredentials and GitHubRepository: rules, and real clones of a local bare repository."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blocks import GitHubCredentials, GitHubRepository, ValidationError
from blocks.errors import GitError
from tests.servers import free_port

TOKEN = "ghp_TopSecretToken0123456789abcdefABCDEF"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True)
    return done.stdout


@pytest.fixture(scope="module")
def bare_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A bare repository with main (README.md, flows/etl.py), tag v1, and branch dev."""
    root = tmp_path_factory.mktemp("git")
    work, bare = root / "work", root / "origin.git"
    git("init", "--quiet", "-b", "main", str(work))
    (work / "flows").mkdir()
    (work / "README.md").write_text("main readme\n")
    (work / "flows" / "etl.py").write_text("print('etl v1')\n")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "v1", cwd=work)
    git("tag", "v1", cwd=work)
    git("checkout", "--quiet", "-b", "dev", cwd=work)
    (work / "flows" / "etl.py").write_text("print('etl dev')\n")
    git("commit", "--quiet", "-am", "dev", cwd=work)
    git("checkout", "--quiet", "main", cwd=work)
    git("clone", "--quiet", "--bare", str(work), str(bare))
    return bare.as_uri()


def repo(url: str, **fields: Any) -> GitHubRepository:
    return GitHubRepository(repository_url=url, **fields)


# -- validation rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://github.com/acme/flows.git", "git@github.com:acme/flows.git",
     "ssh://git@github.com/acme/flows.git", "file:///srv/git/flows.git"],
)
def test_repository_url_forms_accepted(url: str) -> None:
    assert repo(url).repository_url == url


@pytest.mark.parametrize("url", ["github.com/acme/flows", "ftp://x/y.git", "--upload-pack=x", ""])
def test_repository_url_must_be_a_git_url(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        repo(url)
    assert [p for p, _ in info.value.errors] == ["repository_url"]


def test_token_in_the_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as info:
        repo(f"https://x-access-token:{TOKEN}@github.com/acme/flows.git")
    assert [p for p, _ in info.value.errors] == ["repository_url"]
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("url", ["http://github.com/a/b.git", "git@github.com:a/b.git"])
def test_token_needs_https(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        repo(url, credentials=GitHubCredentials(token=TOKEN))
    assert [p for p, _ in info.value.errors] == ["credentials"]


@pytest.mark.parametrize("ref", ["-b", "--upload-pack=evil", "a..b", "has space", "x~1", "end/"])
def test_reference_must_be_a_ref_name(ref: str) -> None:
    with pytest.raises(ValidationError) as info:
        repo("https://github.com/a/b.git", reference=ref)
    assert [p for p, _ in info.value.errors] == ["reference"]


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak"])
def test_token_must_be_header_safe(token: str) -> None:
    with pytest.raises(ValidationError) as info:
        GitHubCredentials(token=token)
    assert [p for p, _ in info.value.errors] == ["token"]


def test_credentials_without_a_token_are_allowed_for_public_repos() -> None:
    assert repo("git@github.com:a/b.git", credentials=GitHubCredentials()).credentials


# -- cloning ------------------------------------------------------------------------------------


def test_clones_the_default_branch(bare_repo: str, tmp_path: Path) -> None:
    out = repo(bare_repo).get_directory(local_path=tmp_path / "dest")
    assert out == tmp_path / "dest"
    assert (out / "README.md").read_text() == "main readme\n"
    assert (out / "flows" / "etl.py").read_text() == "print('etl v1')\n"


@pytest.mark.parametrize(("ref", "text"), [("dev", "etl dev"), ("v1", "etl v1")])
def test_clones_a_branch_or_tag(bare_repo: str, tmp_path: Path, ref: str, text: str) -> None:
    out = repo(bare_repo, reference=ref).get_directory(local_path=tmp_path)
    assert (out / "flows" / "etl.py").read_text() == f"print('{text}')\n"


def test_from_path_copies_one_directory_to_the_same_relative_path(
    bare_repo: str, tmp_path: Path
) -> None:
    out = repo(bare_repo).get_directory(from_path="flows", local_path=tmp_path)
    assert out == tmp_path / "flows"
    assert (out / "etl.py").exists()
    assert not (tmp_path / "README.md").exists()


def test_from_path_can_name_a_file(bare_repo: str, tmp_path: Path) -> None:
    out = repo(bare_repo).get_directory(from_path="flows/etl.py", local_path=tmp_path)
    assert out.read_text() == "print('etl v1')\n"


@pytest.mark.parametrize("from_path", ["../..", "missing"])
def test_from_path_must_exist_inside_the_repository(
    bare_repo: str, tmp_path: Path, from_path: str
) -> None:
    with pytest.raises(ValueError, match="from_path"):
        repo(bare_repo).get_directory(from_path=from_path, local_path=tmp_path)


def test_default_local_path_is_the_working_directory(
    bare_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    repo(bare_repo).get_directory(from_path="flows")
    assert (tmp_path / "flows" / "etl.py").exists()


def test_clone_with_a_token_never_prints_it(
    bare_repo: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    block = repo(bare_repo, credentials=GitHubCredentials(token=TOKEN))
    block.get_directory(local_path=tmp_path)
    assert (tmp_path / "README.md").exists()
    captured = capfd.readouterr()
    assert TOKEN not in captured.out + captured.err


def test_failed_clone_raises_git_error_without_the_token(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    block = repo((tmp_path / "nowhere.git").as_uri(), credentials=GitHubCredentials(token=TOKEN))
    with pytest.raises(GitError) as info:
        block.get_directory(local_path=tmp_path / "dest")
    assert info.value.returncode != 0
    assert "nowhere.git" in str(info.value)
    captured = capfd.readouterr()
    for text in (str(info.value), repr(info.value), captured.out, captured.err):
        assert TOKEN not in text
        assert base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode() not in text


def test_unreachable_https_remote_fails_fast_without_the_token(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}/acme/flows.git"
    block = repo(url, credentials=GitHubCredentials(token=TOKEN))
    with pytest.raises(GitError) as info:
        block.get_directory(local_path=tmp_path)
    assert TOKEN not in str(info.value)


def test_token_is_not_in_git_argv(
    bare_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_git = shutil.which("git")
    assert real_git is not None
    log = tmp_path / "argv.log"
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" >> "{log}"\n'
        f'env | grep -c "^GIT_CONFIG_VALUE_" >> "{log}.env"\n'
        f'exec "{real_git}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}")

    repo(bare_repo, credentials=GitHubCredentials(token=TOKEN)).get_directory(
        local_path=tmp_path / "dest")
    argv = log.read_text()
    assert "clone" in argv
    assert TOKEN not in argv
    assert base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode() not in argv
    assert int(Path(f"{log}.env").read_text().split()[0]) >= 1


def test_token_header_is_scoped_to_the_repository_host() -> None:
    block = repo("https://github.com/acme/flows.git", credentials=GitHubCredentials(token=TOKEN))
    env = block.git_env()

    def header_for(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "config", "--get-urlmatch", "http.extraheader", url],
                              env=env, capture_output=True, text=True, check=False)

    found = header_for("https://github.com/acme/flows.git/info/refs")
    assert found.returncode == 0
    scheme, value = found.stdout.strip().removeprefix("Authorization: ").split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == f"x-access-token:{TOKEN}"
    assert header_for("https://evil.example.com/acme/flows.git").returncode == 1


def test_git_env_appends_to_existing_config_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.askPass")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "")
    monkeypatch.setenv("GIT_TRACE_CURL", "1")
    env = repo("https://github.com/a/b.git", credentials=GitHubCredentials(token=TOKEN)).git_env()
    assert env["GIT_CONFIG_COUNT"] == "2"
    assert env["GIT_CONFIG_KEY_0"] == "core.askPass"
    assert env["GIT_CONFIG_KEY_1"] == "http.https://github.com/.extraHeader"
    assert "GIT_TRACE_CURL" not in env
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_git_env_without_a_token_has_no_header() -> None:
    env = repo("https://github.com/a/b.git").git_env()
    assert not any(v.startswith("Authorization") for v in env.values())
