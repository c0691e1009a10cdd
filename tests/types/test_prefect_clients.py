"""prefect-github / -sqlalchemy / -snowflake client calls and async twins on Blocks' types."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from blocks import (
    GitHubCredentials,
    MissingExtraError,
    Registry,
    SnowflakeConnector,
    SqlAlchemyConnector,
    ValidationError,
)
from blocks.errors import GitHubApiError

TOKEN = "ghp_never_shown_0123456789"


class GraphQLStandIn(BaseHTTPRequestHandler):
    """A local HTTP endpoint answering like GitHub's GraphQL API and recording requests."""

    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"auth": self.headers.get("Authorization"), "body": body})
        status = 401 if self.headers.get("Authorization") == "Bearer bad-token" else 200
        payload = json.dumps({"data": {"viewer": {"login": "octo"}}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def graphql_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), GraphQLStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    GraphQLStandIn.seen = []
    yield f"http://127.0.0.1:{server.server_port}/graphql"
    server.shutdown()
    server.server_close()


def test_github_get_client_sends_queries_with_the_token_as_bearer(graphql_url: str) -> None:
    client = GitHubCredentials(token=TOKEN).get_client(url=graphql_url)
    answer = client("query { viewer { login } }", {"n": 1})
    assert answer == {"data": {"viewer": {"login": "octo"}}}
    [request] = GraphQLStandIn.seen
    assert request["auth"] == f"Bearer {TOKEN}"
    assert request["body"] == {"query": "query { viewer { login } }", "variables": {"n": 1}}
    assert TOKEN not in repr(client)


def test_github_client_refusal_names_the_endpoint_not_the_token(graphql_url: str) -> None:
    client = GitHubCredentials(token="bad-token").get_client(url=graphql_url)
    with pytest.raises(GitHubApiError, match="HTTP 401") as caught:
        client("query { viewer { login } }")
    assert "bad-token" not in str(caught.value) and graphql_url in str(caught.value)


def test_format_git_credentials_embeds_the_token_as_prefect_github_does() -> None:
    creds = GitHubCredentials(token=TOKEN)
    assert creds.format_git_credentials("https://github.com/acme/etl.git") == (
        f"https://{TOKEN}@github.com/acme/etl.git")
    with pytest.raises(ValueError, match="https://"):
        creds.format_git_credentials("git@github.com:acme/etl.git")
    with pytest.raises(ValueError, match="needs a token"):
        GitHubCredentials().format_git_credentials("https://github.com/acme/etl.git")


def test_github_repository_aget_directory_clones_off_the_loop(tmp_path: Path) -> None:
    import subprocess

    from blocks import GitHubRepository

    origin = tmp_path / "origin"
    origin.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    (origin / "flow.py").write_text("print('hi')\n")
    subprocess.run(["git", "-C", str(origin), "add", "."], check=True)
    subprocess.run(["git", "-C", str(origin), "-c", "user.email=t@e", "-c", "user.name=t",
                    "commit", "-qm", "x"], check=True)
    repo = GitHubRepository(repository_url=f"file://{origin}", reference="main")
    got = asyncio.run(repo.aget_directory(local_path=tmp_path / "work"))
    assert (got / "flow.py").read_text() == "print('hi')\n"


@pytest.fixture
def connector(tmp_path: Path) -> Iterator[SqlAlchemyConnector]:
    block = SqlAlchemyConnector(connection_info=f"sqlite:///{tmp_path / 'app.db'}")
    block.execute("create table t (n integer)")
    yield block
    block.close()


def test_get_connection_begins_a_transaction_that_commits_by_default(
    connector: SqlAlchemyConnector,
) -> None:
    from sqlalchemy import text

    with connector.get_connection() as conn:
        conn.execute(text("insert into t values (1)"))
    with pytest.raises(RuntimeError), connector.get_connection() as conn:
        conn.execute(text("insert into t values (2)"))
        raise RuntimeError("rolled back")
    with connector.get_connection(begin=False) as conn:
        assert [r[0] for r in conn.execute(text("select n from t"))] == [1]


def test_get_client_gives_an_engine_or_a_connection(connector: SqlAlchemyConnector) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import Engine

    assert isinstance(connector.get_client("engine"), Engine)
    with connector.get_client("connection", begin=False) as conn:
        assert conn.execute(text("select 1")).scalar() == 1
    with pytest.raises(ValueError, match="'engine' or 'connection'"):
        connector.get_client("cursor")  # type: ignore[arg-type]


def test_sql_async_twins_run_the_same_calls(connector: SqlAlchemyConnector) -> None:
    async def run() -> tuple[Any, ...]:
        await connector.aexecute_many("insert into t values (:n)", [{"n": i} for i in range(4)])
        await connector.aexecute("insert into t values (:n)", {"n": 9})
        first = await connector.afetch_one("select n from t order by n")
        two = await connector.afetch_many("select n from t order by n", size=2)
        rest = await connector.afetch_all("select n from t order by n")
        await connector.areset_connections()
        again = await connector.afetch_one("select n from t order by n")
        return first, two, rest, again

    first, two, rest, again = asyncio.run(run())
    assert tuple(first) == (0,) and [r[0] for r in two] == [1, 2]
    assert [r[0] for r in rest] == [3, 9] and tuple(again) == (0,)


@pytest.mark.skipif(importlib.util.find_spec("snowflake") is not None,
                    reason="snowflake-connector-python is installed: the missing-extra path "
                           "cannot be shown")
def test_snowflake_async_twins_check_arguments_and_name_the_extra() -> None:
    block = SnowflakeConnector(
        credentials={"account": "nh12345", "user": "etl", "password": "pw-xyz"},
        database="analytics", warehouse="wh", schema="public")
    with pytest.raises(TypeError, match="non-empty SQL"):
        asyncio.run(block.afetch_one(""))
    with pytest.raises(MissingExtraError, match="snowflake"):
        asyncio.run(block.fetch_all_async("select 1"))


def test_prefect_snowflake_workload_identity_documents_import(sqlite_registry: Registry) -> None:
    block = sqlite_registry.parse("snowflake-credentials", {
        "account": "nh12345", "user": None, "authenticator": "workload_identity",
        "workload_identity_provider": "aws", "password": None, "private_key": None})
    params = block.connect_params()  # type: ignore[attr-defined]
    assert params["authenticator"] == "WORKLOAD_IDENTITY"
    assert params["workload_identity_provider"] == "AWS" and "user" not in params
    oidc = sqlite_registry.parse("snowflake-credentials", {
        "account": "nh12345", "authenticator": "workload_identity",
        "workload_identity_provider": "oidc", "token": "oidc-token"})
    assert oidc.connect_params()["token"] == "oidc-token"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("doc", "path"), [
    ({"authenticator": "workload_identity"}, "workload_identity_provider"),
    ({"authenticator": "workload_identity", "workload_identity_provider": "oidc"}, "token"),
    ({"authenticator": "workload_identity", "workload_identity_provider": "gcp",
      "password": "pw"}, "password"),
    ({"authenticator": "snowflake", "password": "pw"}, "user"),
])
def test_snowflake_identity_rules_name_the_field(
    sqlite_registry: Registry, doc: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError, match=rf"{path}:"):
        sqlite_registry.parse("snowflake-credentials", {"account": "nh12345", **doc})


def test_prefect_snowflake_pem_key_imports_as_text_or_base64(sqlite_registry: Registry) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    for given in (pem, base64.b64encode(pem.encode()).decode()):
        block = sqlite_registry.parse("snowflake-credentials", {
            "account": "nh12345", "user": "etl", "authenticator": "snowflake_jwt",
            "private_key": given})
        assert block.resolve_private_key() == key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
