"""Every built-in type through a real registry: save, load, nested references, masked secrets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from blocks import (
    AwsCredentials,
    Block,
    DatabaseCredentials,
    GitHubCredentials,
    GitHubRepository,
    ReferencedBlockError,
    Registry,
    S3Bucket,
    SnowflakeConnector,
    SnowflakeCredentials,
)
from blocks.codec import MASK
from blocks.registry import describe
from tests.types.keys import PASSPHRASE, pem

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too


PEM = pem(passphrase=PASSPHRASE)
PEM_BODY_SAMPLE = PEM.decode().splitlines()[3]


def aws_credentials() -> AwsCredentials:
    return AwsCredentials(
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="aws-secret-Zq1",
        aws_session_token="aws-token-Zq2",
        region_name="eu-west-1",
        aws_client_parameters={"endpoint_url": "http://127.0.0.1:9",
                               "config": {"retries": {"max_attempts": 2}}},
        role_arn="arn:aws:iam::123456789012:role/loader",
        role_session_name="round-trip",
        external_id="ext-42",
    )


def snowflake_credentials() -> SnowflakeCredentials:
    return SnowflakeCredentials(
        account="nh12345.us-east-2.aws", user="etl", authenticator="snowflake_jwt",
        private_key=PEM, private_key_passphrase=PASSPHRASE, role="loader", autocommit=True,
    )


def github_credentials() -> GitHubCredentials:
    return GitHubCredentials(token="ghp_secretZq3")


# (factory, secret values that must never show in repr/str/describe)
CASES: dict[str, tuple[Callable[[], Block], list[str]]] = {
    "aws-credentials": (aws_credentials, ["aws-secret-Zq1", "aws-token-Zq2"]),
    "s3-bucket": (
        lambda: S3Bucket(bucket_name="data-lake", bucket_folder="raw/in",
                         credentials=aws_credentials()),
        ["aws-secret-Zq1", "aws-token-Zq2"],
    ),
    "snowflake-credentials": (snowflake_credentials, [PASSPHRASE, PEM_BODY_SAMPLE]),
    "snowflake-connector": (
        lambda: SnowflakeConnector(credentials=snowflake_credentials(), database="raw",
                                   warehouse="load_wh", schema="public", fetch_size=500),
        [PASSPHRASE, PEM_BODY_SAMPLE],
    ),
    "github-credentials": (github_credentials, ["ghp_secretZq3"]),
    "github-repository": (
        lambda: GitHubRepository(repository_url="https://github.com/acme/flows.git",
                                 reference="main", credentials=github_credentials()),
        ["ghp_secretZq3"],
    ),
    "database-credentials": (
        lambda: DatabaseCredentials(
            driver="postgresql+psycopg", username="etl", password="db-pass-Zq4", host="db",
            port=5432, database="app", query={"sslmode": "require"},
            connect_args={"connect_timeout": 5},
        ),
        ["db-pass-Zq4"],
    ),
}


@pytest.mark.parametrize("slug", sorted(CASES))
def test_round_trip_keeps_every_field(registry: Registry, slug: str) -> None:
    make, _ = CASES[slug]
    block = make()
    assert block.block_type_slug == slug
    block.save("original", registry=registry)
    loaded = Block.load(f"{slug}/original", registry=registry)
    assert type(loaded) is type(block)
    assert describe(loaded, show_secrets=True) == describe(block, show_secrets=True)
    assert loaded.block_ref == f"{slug}/original"


@pytest.mark.parametrize("slug", sorted(CASES))
def test_secrets_are_masked_in_repr_str_and_describe(registry: Registry, slug: str) -> None:
    make, secrets = CASES[slug]
    block = make()
    block.save("masked", registry=registry)
    loaded = Block.load(f"{slug}/masked", registry=registry)
    for shown in (repr(loaded), str(loaded), str(describe(loaded)), str(describe(block))):
        for secret in secrets:
            assert secret not in shown
    assert MASK in str(describe(loaded))


def test_database_url_field_round_trips_as_a_secret(registry: Registry) -> None:
    block = DatabaseCredentials(url="postgresql+psycopg://etl:db-url-pass-Zq5@db/app")
    block.save("by-url", registry=registry)
    loaded = DatabaseCredentials.load("by-url", registry=registry)
    assert loaded.url_ is not None
    assert loaded.url_.get_secret_value().endswith("db-url-pass-Zq5@db/app")
    assert "db-url-pass-Zq5" not in repr(loaded) + str(describe(loaded))
    assert "url" in DatabaseCredentials.secret_paths()


@pytest.mark.parametrize(
    ("parent_slug", "make_parent", "child_slug", "make_child", "field"),
    [
        ("s3-bucket", lambda c: S3Bucket(bucket_name="data-lake", credentials=c),
         "aws-credentials", aws_credentials, "credentials"),
        ("snowflake-connector",
         lambda c: SnowflakeConnector(credentials=c, database="d", warehouse="w", schema="s"),
         "snowflake-credentials", snowflake_credentials, "credentials"),
        ("github-repository",
         lambda c: GitHubRepository(repository_url="https://github.com/acme/flows.git",
                                    credentials=c),
         "github-credentials", github_credentials, "credentials"),
    ],
)
def test_nested_credentials_are_stored_as_a_reference(
    registry: Registry,
    parent_slug: str,
    make_parent: Callable[[Block], Block],
    child_slug: str,
    make_child: Callable[[], Block],
    field: str,
) -> None:
    child = make_child()
    child.save("shared", registry=registry)
    make_parent(child).save("uses-shared", registry=registry)

    loaded = registry.load(f"{parent_slug}/uses-shared")
    nested = getattr(loaded, field)
    assert nested.block_ref == f"{child_slug}/shared"
    assert describe(loaded)[field] == {"$ref": f"{child_slug}/shared"}
    assert describe(nested, show_secrets=True) == describe(child, show_secrets=True)
    with pytest.raises(ReferencedBlockError, match=f"{parent_slug}/uses-shared"):
        registry.delete(f"{child_slug}/shared")


def test_a_changed_reference_is_seen_by_the_referring_block(registry: Registry) -> None:
    creds = aws_credentials()
    creds.save("rotating", registry=registry)
    S3Bucket(bucket_name="data-lake", credentials=creds).save("lake", registry=registry)

    creds.aws_secret_access_key = "aws-secret-rotated"  # type: ignore[assignment]
    creds.save("rotating", overwrite=True, registry=registry)

    loaded = S3Bucket.load("lake", registry=registry)
    secret = loaded.credentials.aws_secret_access_key
    assert secret is not None and secret.get_secret_value() == "aws-secret-rotated"


def test_default_registry_under_blocks_home(blocks_home: Path) -> None:
    github_credentials().save("ci")
    GitHubRepository(
        repository_url="https://github.com/acme/flows.git",
        credentials=GitHubCredentials.load("ci"),
    ).save("flows")
    loaded = GitHubRepository.load("flows")
    assert loaded.credentials is not None and loaded.credentials.block_ref == (
        "github-credentials/ci")
    assert (blocks_home / "blocks.db").exists()
    assert b"ghp_secretZq3" not in (blocks_home / "blocks.db").read_bytes()
