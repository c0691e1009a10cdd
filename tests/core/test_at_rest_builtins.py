"""No plaintext of any built-in type's secrets in the SQLite files or a PostgreSQL dump."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from blocks import (
    AwsCredentials,
    DatabaseCredentials,
    GitHubCredentials,
    GitHubRepository,
    Registry,
    S3Bucket,
    Secret,
    SnowflakeConnector,
    SnowflakeCredentials,
)

SECRETS = {
    "secret": "slack-xoxb-7c1e9a",
    "json-secret": "json-inner-4b2f88",
    "aws": "aws-secret-key-0d3c5e",
    "aws-session": "aws-session-token-91ab22",
    "snowflake-pw": "snow-pw-2e7d41",
    "snowflake-pass": "snow-passphrase-6f0a13",
    "github": "ghp_token_5a8c0b",
    "db": "db-password-3d9e7f",
}


def pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRETS["snowflake-pass"].encode()))


def save_every_builtin(reg: Registry) -> bytes:
    key = pem()
    reg.save(Secret(value=SECRETS["secret"]), "plain")
    reg.save(Secret(value={"nested": [SECRETS["json-secret"]]}), "json")
    reg.save(AwsCredentials(aws_access_key_id="AKIA", aws_secret_access_key=SECRETS["aws"],
                            aws_session_token=SECRETS["aws-session"]), "prod")
    reg.save(S3Bucket(bucket_name="lake", credentials=reg.load("aws-credentials/prod")), "lake")
    reg.save(SnowflakeCredentials(account="acct", user="u", password=SECRETS["snowflake-pw"]),
             "pw")
    reg.save(SnowflakeCredentials(account="acct", user="u", private_key=key,
                                  private_key_passphrase=SECRETS["snowflake-pass"],
                                  authenticator="snowflake_jwt"), "key")
    reg.save(SnowflakeConnector(credentials=reg.load("snowflake-credentials/key"),
                                database="d", warehouse="w", schema="s"), "conn")
    reg.save(GitHubCredentials(token=SECRETS["github"]), "ci")
    reg.save(GitHubRepository(repository_url="https://github.com/acme/flows.git",
                              credentials=reg.load("github-credentials/ci")), "flows")
    reg.save(DatabaseCredentials(driver="postgresql+psycopg", host="db", username="u",
                                 password=SECRETS["db"], database="d"), "wh")
    return key


def needles(key: bytes) -> list[bytes]:
    body = b"".join(line for line in key.splitlines() if b"-----" not in line)
    found = [s.encode() for s in SECRETS.values()] + [body[:40], body[-40:]]
    found += [base64.b64encode(s.encode()) for s in SECRETS.values()]
    return found


def test_sqlite_files_hold_no_builtin_secret(sqlite_registry: Registry, blocks_home: Path) -> None:
    key = save_every_builtin(sqlite_registry)
    for ref in ("s3-bucket/lake", "snowflake-connector/conn", "github-repository/flows"):
        sqlite_registry.load(ref)
    data = b"".join(p.read_bytes() for p in sorted(blocks_home.glob("blocks.db*")))
    assert b"snowflake-connector" in data
    for needle in needles(key):
        assert needle not in data, needle[:12]


@pytest.mark.postgres
def test_postgres_dump_holds_no_builtin_secret(pg_registry: Registry, pg_url: str) -> None:
    key = save_every_builtin(pg_registry)
    schema = pg_url.rsplit("%3D", 1)[1]
    dump = b""
    with pg_registry.store.engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})]
        for table in tables:
            for (row,) in conn.execute(text(f'SELECT t::text FROM "{schema}"."{table}" t')):
                dump += row.encode() + b"\n"
            for (row,) in conn.execute(text(
                    f"SELECT encode(t.ciphertext, 'escape') FROM \"{schema}\".\"{table}\" t")
                    ) if table == "block_version" else []:
                dump += row.encode() + b"\n"
    assert b"snowflake-connector" in dump
    for needle in needles(key):
        assert needle not in dump and needle.hex().encode() not in dump, needle[:12]
