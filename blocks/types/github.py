"""GitHub blocks: :class:`GitHubCredentials` and :class:`GitHubRepository`.

Field names follow prefect-github. Cloning runs the ``git`` command; the token reaches git only
through its environment (``GIT_CONFIG_*`` entries setting an ``http.<url>.extraHeader`` scoped
to the repository's host), never through argv, the URL, a file, a log line or an error message.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from blocks._async import run_sync
from blocks.core import Block
from blocks.errors import ConfigurationError, GitError
from blocks.types._github_client import GITHUB_GRAPHQL_URL, GraphQLEndpoint
from blocks.types._rules import raise_field_errors

_SCP_RE = re.compile(r"^[\w.-]+@[\w.-]+:[\w./~-]+$")
_URL_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
_TOKEN_SCHEMES = frozenset({"https", "file"})
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")  # printable, no spaces: it goes into an HTTP header
_REF_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*@\{)[^\s~^:?*\[\\\x00-\x1f\x7f]+(?<![/.])$")
_STRIPPED_ENV_PREFIXES = ("GIT_TRACE", "GIT_CURL_VERBOSE")
MASK = "********"


class GitHubCredentials(Block):
    """A GitHub token (personal access token, fine-grained token or app installation token).

    Example:
        >>> GitHubCredentials(token="github_pat_...").save("ci")            # doctest: +SKIP
    """

    block_type_slug = "github-credentials"

    token: SecretStr | None = Field(
        default=None,
        description="GitHub token used to clone private repositories over https; "
        "default: none (public repositories).",
    )

    def get_client(self, url: str = GITHUB_GRAPHQL_URL) -> GraphQLEndpoint:
        """GitHub's GraphQL API with this token, called as prefect-github's client is:
        ``client(query, variables)`` -> GitHub's JSON answer.

        Args:
            url: the GraphQL endpoint; GitHub Enterprise: ``https://<host>/api/graphql``.
        """
        token = self.token.get_secret_value() if self.token is not None else None
        return GraphQLEndpoint(url, token)

    def format_git_credentials(self, url: str) -> str:
        """``url`` with the token as its user (``https://<token>@github.com/org/repo.git``), as
        prefect-github's; Prefect's ``git_clone`` deployment step uses it.

        The result holds the token in clear: pass it to git only, never log or store it
        (:meth:`GitHubRepository.get_directory` keeps the token out of URLs instead).

        Raises:
            ValueError: no token is set, or ``url`` is not an https URL.
        """
        if self.token is None:
            raise ValueError("GitHubCredentials.format_git_credentials needs a token")
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("format_git_credentials takes an https:// repository URL")
        netloc = f"{self.token.get_secret_value()}@{parts.netloc.rpartition('@')[2]}"
        return urlunsplit(parts._replace(netloc=netloc))

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("must be non-empty printable characters without spaces")
        return value


class GitHubRepository(Block):
    """A git repository (GitHub or any git host) to fetch code from.

    Example:
        >>> repo = GitHubRepository(repository_url="https://github.com/org/flows.git",
        ...                         reference="main")                    # doctest: +SKIP
        >>> repo.get_directory(from_path="flows", local_path="/tmp/work") # doctest: +SKIP
    """

    block_type_slug = "github-repository"

    repository_url: str = Field(
        description="Repository URL: https://github.com/<owner>/<repo>.git, ssh "
        "(git@github.com:<owner>/<repo>.git) or file://. Private repositories with a token "
        "need https.",
    )
    reference: str | None = Field(
        default=None,
        description="Branch or tag to check out; default: the repository's default branch.",
    )
    credentials: GitHubCredentials | None = Field(
        default=None,
        description="GitHubCredentials block with a token, for private repositories; "
        "default: none.",
    )

    @field_validator("repository_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if _SCP_RE.match(value) and not value.startswith("-"):
            return value
        parts = urlsplit(value)
        if parts.scheme not in _URL_SCHEMES or not (parts.netloc or parts.scheme == "file"):
            raise ValueError(
                "must be an https://, ssh://, git://, file:// or user@host:path repository URL"
            )
        # A token as the user name (https://<token>@github.com/...) is still a credential: it
        # would be stored in clear, shown by inspect and passed on git's command line. Only
        # ssh keeps a bare user name (ssh://git@host/...), which is no secret.
        has_user = parts.username is not None and (parts.scheme != "ssh" or parts.password)
        if has_user or parts.password is not None:
            raise ValueError(
                "must not contain a user name, password or token; put the token in "
                "credentials (a GitHubCredentials block)"
            )
        return value

    @field_validator("reference")
    @classmethod
    def _check_reference(cls, value: str | None) -> str | None:
        if value is not None and not _REF_RE.match(value):
            raise ValueError("must be a branch or tag name (no spaces, '..', or leading '-')")
        return value

    @model_validator(mode="after")
    def _check_rules(self) -> GitHubRepository:
        has_token = self.credentials is not None and self.credentials.token is not None
        if has_token and urlsplit(self.repository_url).scheme not in _TOKEN_SCHEMES:
            raise_field_errors(
                type(self).__name__,
                [("credentials", "a token is only sent over https; use an https:// "
                                 "repository_url (or ssh keys without credentials)")],
            )
        return self

    def get_directory(self, from_path: str | None = None, local_path: str | Path = ".") -> Path:
        """Clone the repository (depth 1) and copy it, or one directory of it, to ``local_path``.

        Args:
            from_path: a file or directory inside the repository to copy instead of the whole
                tree; it lands at the same relative path under ``local_path`` (as in Prefect).
            local_path: destination directory; created if missing, existing files overwritten.

        Returns:
            The path of what was copied (``local_path`` or ``local_path/from_path``).

        Raises:
            GitError: git failed; the message has git's output with the token scrubbed.
            ConfigurationError: git is not installed.
            ValueError: ``from_path`` leaves the repository or does not exist in it.
        """
        git = shutil.which("git")
        if git is None:
            raise ConfigurationError("GitHubRepository.get_directory needs git on PATH")
        root = Path(local_path)
        parts: tuple[str, ...]
        with tempfile.TemporaryDirectory(prefix="blocks-git-") as tmp:
            clone = Path(tmp) / "repo"
            argv = [git, "clone", "--quiet", "--depth", "1"]
            if self.reference is not None:
                argv += ["--branch", self.reference]
            argv += ["--", self.repository_url, str(clone)]
            self._run(argv, f"git clone of {self.repository_url}")
            source, parts = clone, ()
            if from_path:
                source = (clone / from_path).resolve()
                if not source.is_relative_to(clone.resolve()):
                    raise ValueError(f"from_path {from_path!r} leaves the repository")
                if not source.exists():
                    raise ValueError(
                        f"from_path {from_path!r} does not exist in {self.repository_url}"
                    )
                parts = source.relative_to(clone.resolve()).parts
            _copy_into(root, source, parts)
        return root.joinpath(*parts)

    async def aget_directory(
        self, from_path: str | None = None, local_path: str | Path = "."
    ) -> Path:
        """:meth:`get_directory` without blocking the event loop."""
        return await run_sync(self.get_directory, from_path, local_path)

    def git_env(self) -> dict[str, str]:
        """The environment ``git`` runs with: the token as an extra header, no prompts, no
        tracing (which could print headers)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_ENV_PREFIXES)}
        env["GIT_TERMINAL_PROMPT"] = "0"
        token = self._token()
        if token is not None:
            parts = urlsplit(self.repository_url)
            index = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
            env[f"GIT_CONFIG_KEY_{index}"] = f"http.{parts.scheme}://{parts.netloc}/.extraHeader"
            env[f"GIT_CONFIG_VALUE_{index}"] = f"Authorization: Basic {_basic(token)}"
            env["GIT_CONFIG_COUNT"] = str(index + 1)
        return env

    def _run(self, argv: list[str], action: str) -> None:
        result = subprocess.run(
            argv, env=self.git_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            check=False,
        )
        if result.returncode != 0:
            raise GitError(action, result.returncode, self._scrub(result.stderr))

    def _token(self) -> str | None:
        if self.credentials is None or self.credentials.token is None:
            return None
        return self.credentials.token.get_secret_value()

    def _scrub(self, text: str) -> str:
        token = self._token()
        if token is None:
            return text
        for secret in (_basic(token), token):
            text = text.replace(secret, MASK)
        return text


def _copy_into(root: Path, source: Path, parts: tuple[str, ...]) -> None:
    """Copy ``source`` (a file or a tree) to ``root/<parts>`` without following any symlink
    found under ``root``.

    ``root`` may hold an earlier checkout whose symlinks point outside it (``flows -> /etc``);
    writing through one would let a repository overwrite files anywhere. Such a link on the way
    is replaced by a real directory or file, and the repository's own symlinks are copied as
    links, never followed.
    """
    root.mkdir(parents=True, exist_ok=True)
    if not parts:
        for child in source.iterdir():
            _copy_entry(child, root / child.name)
        return
    _copy_entry(source, _real_dir(root, parts[:-1]) / parts[-1])


def _real_dir(root: Path, parts: tuple[str, ...]) -> Path:
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            current.unlink()
        current.mkdir(exist_ok=True)
    return current


def _copy_entry(source: Path, target: Path) -> None:
    if source.is_symlink():
        _remove(target)
        target.symlink_to(os.readlink(source))
    elif source.is_dir():
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            target.unlink()
        target.mkdir(exist_ok=True)
        for child in source.iterdir():
            _copy_entry(child, target / child.name)
    else:
        _remove(target)
        shutil.copy2(source, target, follow_symlinks=False)


def _remove(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def _basic(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode()
