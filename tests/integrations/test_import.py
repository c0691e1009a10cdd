"""``blocks import prefect`` from a real Prefect server: typed, nested as references, idempotent."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from blocks import Registry
from blocks.cli.main import main
from blocks.errors import PrefectError
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import block_type
from blocks.integrations.prefect.importer import ImportResult, import_blocks
from tests.servers import closed_port_url

AWS_PARAMS_WITH_NULLS = {"verify": None, "use_ssl": True, "endpoint_url": None,
                         "api_version": None, "config": None, "verify_cert_path": None}


def create(client: PrefectClient, slug: str, name: str, data: dict[str, Any]) -> str:
    kind = block_type(client, slug)
    assert kind is not None, f"the server has no block type {slug}"
    doc = client.request("POST", "block_documents/", f"{slug}/{name}", json={
        "name": name, "data": data, "block_schema_id": kind.schema_id,
        "block_type_id": kind.type_id})
    return str(doc["id"])


def ref(doc_id: str) -> dict[str, Any]:
    return {"$ref": {"block_document_id": doc_id}}


@pytest.fixture(scope="module")
def tag() -> str:
    return secrets.token_hex(3)


@pytest.fixture
def documents(prefect: PrefectClient, tag: str) -> dict[str, str]:
    """One document of every supported type (and one unsupported), created once per module."""
    if block_type(prefect, "secret") is None:
        pytest.fail("the Prefect server registered no block types")
    names = {k: f"{k}-{tag}" for k in ("pass", "aws", "bucket", "gh", "repo", "sf", "sfc", "sql",
                                         "slack")}
    if prefect.request("GET", f"block_types/slug/secret/block_documents/name/{names['pass']}",
                       "probe", missing_ok=True) is not None:
        return names
    create(prefect, "secret", names["pass"], {"value": "imported-db-pass"})
    aws = create(prefect, "aws-credentials", names["aws"], {
        "aws_access_key_id": "AKIAIMPORT", "aws_secret_access_key": "imported-aws-secret",
        "region_name": "eu-west-1", "assume_role_arn": "arn:aws:iam::123456789012:role/etl",
        "assume_role_kwargs": {"RoleSessionName": "etl-run", "DurationSeconds": 900},
        "aws_client_parameters": AWS_PARAMS_WITH_NULLS,
    })
    create(prefect, "s3-bucket", names["bucket"], {
        "bucket_name": "data-lake", "bucket_folder": "raw", "credentials": ref(aws)})
    gh = create(prefect, "github-credentials", names["gh"], {"token": "ghp_imported"})
    create(prefect, "github-repository", names["repo"], {
        "repository_url": "https://github.com/acme/etl.git", "reference": "main",
        "credentials": ref(gh)})
    sf = create(prefect, "snowflake-credentials", names["sf"], {
        "account": "acme-xy12345", "user": "etl", "password": "imported-sf-pass",
        "authenticator": "snowflake"})
    create(prefect, "snowflake-connector", names["sfc"], {
        "credentials": ref(sf), "database": "analytics", "warehouse": "wh", "schema": "public",
        "fetch_size": 1, "poll_frequency_s": 1})
    create(prefect, "sqlalchemy-connector", names["sql"], {
        "connection_info": {"driver": "postgresql+psycopg", "username": "etl",
                            "password": "imported-sql-pass", "host": "db.internal",
                            "port": 5432, "database": "etl", "query": None},
        "connect_args": None, "fetch_size": 1})
    create(prefect, "slack-webhook", names["slack"], {"url": "https://hooks.example/x"})
    return names


def outcomes(result: ImportResult, names: dict[str, str]) -> dict[str, str]:
    mine = set(names.values())
    return {f"{i.prefect_slug}/{i.name}": i.outcome for i in result.items if i.name in mine}


def test_import_of_every_supported_type_loads_the_same_values_and_a_rerun_changes_nothing(
    bridge_registry: Registry, prefect: PrefectClient, documents: dict[str, str]
) -> None:
    from blocks import (
        AwsCredentials,
        GitHubRepository,
        S3Bucket,
        Secret,
        SnowflakeConnector,
        SqlAlchemyConnector,
    )

    n = documents
    planned = import_blocks(prefect, bridge_registry, dry_run=True)
    assert bridge_registry.list() == []  # dry run writes nothing
    first = import_blocks(prefect, bridge_registry)
    assert outcomes(first, n) == outcomes(planned, n) == {
        f"secret/{n['pass']}": "create", f"aws-credentials/{n['aws']}": "create",
        f"s3-bucket/{n['bucket']}": "create", f"github-credentials/{n['gh']}": "create",
        f"github-repository/{n['repo']}": "create",
        f"snowflake-credentials/{n['sf']}": "create",
        f"snowflake-connector/{n['sfc']}": "create",
        f"sqlalchemy-connector/{n['sql']}": "create",
        f"slack-webhook/{n['slack']}": "unsupported",
    }
    order = [i.name for i in first.items]
    assert order.index(n["aws"]) < order.index(n["bucket"])  # dependencies first

    assert Secret.load(n["pass"], registry=bridge_registry).get() == "imported-db-pass"
    aws = AwsCredentials.load(n["aws"], registry=bridge_registry)
    assert aws.assume_role_arn == "arn:aws:iam::123456789012:role/etl"
    assert aws.assume_role_kwargs == {"RoleSessionName": "etl-run", "DurationSeconds": 900}
    assert aws.aws_secret_access_key is not None
    assert aws.aws_secret_access_key.get_secret_value() == "imported-aws-secret"
    assert aws.aws_client_parameters.verify is None
    bucket = S3Bucket.load(n["bucket"], registry=bridge_registry)
    assert (bucket.bucket_name, bucket.bucket_folder) == ("data-lake", "raw")
    assert bucket.credentials.block_ref == f"aws-credentials/{n['aws']}"  # a reference
    repo = GitHubRepository.load(n["repo"], registry=bridge_registry)
    assert repo.credentials is not None and repo.credentials.block_ref == (
        f"github-credentials/{n['gh']}")
    assert repo.credentials.token is not None
    assert repo.credentials.token.get_secret_value() == "ghp_imported"
    sfc = SnowflakeConnector.load(n["sfc"], registry=bridge_registry)
    assert (sfc.schema_, sfc.credentials.account) == ("public", "acme-xy12345")
    assert sfc.credentials.block_ref == f"snowflake-credentials/{n['sf']}"
    sql = SqlAlchemyConnector.load(n["sql"], registry=bridge_registry)
    assert sql.connection_info.host == "db.internal"  # type: ignore[union-attr]
    assert sql.connection_info.password.get_secret_value() == "imported-sql-pass"  # type: ignore[union-attr]

    again = import_blocks(prefect, bridge_registry)
    assert again.changed == []
    assert set(outcomes(again, n).values()) == {"unchanged", "unsupported"}


def test_cli_import_dry_run_filters_and_lists_unknown_types(
    bridge_registry: Registry, documents: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "prefect", "--dry-run", "--type", "slack-webhook"]) == 0
    out = capsys.readouterr().out
    assert f"? slack-webhook/{documents['slack']}: unsupported" in out
    assert "Blocks has no type for Prefect type 'slack-webhook'" in out
    assert main(["import", "prefect", "--dry-run", "--name", documents["bucket"]]) == 0
    out = capsys.readouterr().out
    assert f"+ aws-credentials/{documents['aws']}" in out  # nested documents come along
    assert f"+ s3-bucket/{documents['bucket']}" in out
    assert "imported-aws-secret" not in out
    assert bridge_registry.list() == []


def test_import_from_a_server_that_is_down_names_it_and_writes_nothing(
    bridge_registry: Registry
) -> None:
    url = closed_port_url() + "/api"
    with PrefectClient(url) as down, pytest.raises(PrefectError) as caught:
        import_blocks(down, bridge_registry)
    assert url in str(caught.value) and "block documents" in str(caught.value)
    assert bridge_registry.list() == []


def test_import_pools_copies_a_prefect_pool_with_its_queues_and_a_rerun_changes_nothing(
    bridge_registry: Registry, prefect: PrefectClient, tag: str
) -> None:
    from blocks.integrations.prefect.import_pools import import_pools
    from blocks.pools import WorkPool, default_base_job_template

    name = f"from-prefect-{tag}"
    prefect.request("POST", "work_pools/", "pool", json={
        "name": name, "type": "process", "description": "made in Prefect",
        "concurrency_limit": 3, "base_job_template": default_base_job_template("process")})
    prefect.request("POST", f"work_pools/{name}/queues", "queue",
                    json={"name": "urgent", "priority": 2, "concurrency_limit": 1})
    first = import_pools(prefect, bridge_registry, name=name)
    assert [(i.name, i.outcome) for i in first.items] == [
        (f"work pool {name}", "create"), (f"work queue {name}/default", "update"),
        (f"work queue {name}/urgent", "create")]
    pool = WorkPool.load(name, registry=bridge_registry)
    assert (pool.description, pool.concurrency_limit) == ("made in Prefect", 3)
    urgent = pool.queue("urgent", registry=bridge_registry)
    assert (urgent.priority, urgent.concurrency_limit) == (2, 1)
    again = import_pools(prefect, bridge_registry, name=name)
    assert {i.outcome for i in again.items} == {"unchanged"}
