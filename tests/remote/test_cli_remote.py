"""The ``blocks`` CLI with only BLOCKS_API_URL and BLOCKS_API_TOKEN: no database, no key.

Runs the real command in a subprocess against a real server (uvicorn in this process) whose
authenticator checks the bearer token, so the token is proven to be sent.
"""

from __future__ import annotations

import hmac
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Request

from blocks import Registry, Secret
from blocks.errors import Unauthorized
from blocks.server.security import ADMIN, Principal
from tests.cli_process import run_cli
from tests.server_fixtures import serve

TOKEN = "tok-" + "9f" * 16


def bearer_authenticator(request: Request) -> Principal:
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {TOKEN}".encode()):
        raise Unauthorized("missing or unknown token")
    return ADMIN


@pytest.fixture
def cli_server(served_registry: Registry) -> Iterator[str]:
    with serve(served_registry, bearer_authenticator) as url:
        yield url


@pytest.fixture
def client_env(tmp_path: Path, cli_server: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOCKS_", "VAULT_",
                                                                     "AWS_"))}
    env.update(HOME=str(tmp_path / "client-home"), BLOCKS_API_URL=cli_server,
               BLOCKS_API_TOKEN=TOKEN, BLOCKS_HOME=str(tmp_path / "client-home" / ".blocks"))
    return env


def blocks(env: dict[str, str], *argv: str, stdin: str | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    done = run_cli(argv, env=env, input=stdin, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_block_commands_work_through_the_server_alone(
        client_env: dict[str, str], served_registry: Registry, tmp_path: Path) -> None:
    blocks(client_env, "save", "secret/api", "--file", "-", stdin='{"value": "s3cr3t-1"}')
    blocks(client_env, "save", "secret/api", "--file", "-", "--overwrite",
           stdin='{"value": "s3cr3t-2"}')
    listed = json.loads(blocks(client_env, "ls", "--json").stdout)
    assert [(b["ref"], b["current_version"]) for b in listed] == [("secret/api", 2)]
    shown = json.loads(blocks(client_env, "inspect", "secret/api", "--json").stdout)
    assert shown["data"] == {"value": "********"} and shown["version"] == 2
    revealed = blocks(client_env, "inspect", "secret/api", "--version", "1", "--show-secrets",
                      "--json").stdout
    assert json.loads(revealed)["data"] == {"value": "s3cr3t-1"}
    history = json.loads(blocks(client_env, "history", "secret/api", "--json").stdout)
    assert [(v["version"], v["stage"]) for v in history] == [(1, "previous"), (2, "current")]
    blocks(client_env, "rollback", "secret/api", "--version", "1")
    blocks(client_env, "mv", "secret/api", "api-token", "--expected-version", "3")
    blocks(client_env, "keys", "purge", "secret/api-token", "--version", "2", "--yes")
    assert served_registry.history("secret/api-token")[1].shredded
    assert served_registry.load("secret/api-token").get() == "s3cr3t-1"
    conflict = blocks(client_env, "save", "secret/api-token", "--file", "-",
                      "--expected-version", "1", stdin='{"value": "x"}', check=False)
    assert conflict.returncode == 1
    assert "at version 3, not the expected 1" in conflict.stderr
    blocks(client_env, "rm", "secret/api-token", "--force", "--yes")
    assert served_registry.list() == []
    # Nothing local was created: no database, no master key.
    assert not (tmp_path / "client-home").exists()


def test_the_cli_reports_the_servers_errors_as_it_would_locally(
        client_env: dict[str, str]) -> None:
    missing = blocks(client_env, "inspect", "secret/nope", check=False)
    assert missing.returncode == 1
    assert "no block secret/nope; see 'blocks ls secret'" in missing.stderr
    invalid = blocks(client_env, "save", "secret/x", "--file", "-", stdin='{"valu": 1}',
                     check=False)
    assert invalid.returncode == 1
    assert "secret/x: invalid document" in invalid.stderr and "valu" in invalid.stderr


def test_a_wrong_token_is_refused_and_never_printed(client_env: dict[str, str]) -> None:
    env = {**client_env, "BLOCKS_API_TOKEN": "wrong-token-value"}
    refused = blocks(env, "ls", check=False)
    assert refused.returncode == 1
    assert "missing or unknown token" in refused.stderr
    assert "wrong-token-value" not in refused.stderr + refused.stdout


def test_a_server_that_is_down_is_named(client_env: dict[str, str]) -> None:
    env = {**client_env, "BLOCKS_API_URL": "http://127.0.0.1:1"}
    down = blocks(env, "ls", check=False)
    assert down.returncode == 1
    assert "no blocks server answered GET /v1/blocks: tried http://127.0.0.1:1" in down.stderr


def test_api_url_with_a_database_url_is_a_configuration_error(
        client_env: dict[str, str], served_registry: Registry) -> None:
    Secret(value="v").save("x", registry=served_registry)
    env = {**client_env, "BLOCKS_DATABASE_URL": "sqlite:////tmp/never.db"}
    both = blocks(env, "ls", check=False)
    assert both.returncode == 1
    assert "BLOCKS_API_URL and BLOCKS_DATABASE_URL are both set" in both.stderr
