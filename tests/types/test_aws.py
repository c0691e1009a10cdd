"""AwsCredentials and S3Bucket: validation rules, and real work against the moto server."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from blocks import AwsCredentials, MinIOCredentials, Registry, S3Bucket, ValidationError
from blocks.errors import UnusualValueWarning
from tests.servers import Server

pytestmark = pytest.mark.aws

ROLE_ARN = "arn:aws:iam::123456789012:role/blocks-loader"


def rule_errors(**fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        AwsCredentials(**fields)
    return dict(info.value.errors)


# -- validation rules ---------------------------------------------------------------------------


def test_secret_key_needs_access_key_id() -> None:
    assert "aws_access_key_id" in rule_errors(aws_secret_access_key="s3cr3t-Zx")


def test_access_key_id_needs_secret_key() -> None:
    assert "aws_secret_access_key" in rule_errors(aws_access_key_id="AKIAEXAMPLE")


def test_session_token_needs_access_keys() -> None:
    assert "aws_session_token" in rule_errors(aws_session_token="tok")


@pytest.mark.parametrize("region", ["eu west 1", "us_east_1", "-us-east-1", ""])
def test_region_botocore_would_refuse_is_refused(region: str) -> None:
    assert "region_name" in rule_errors(region_name=region)


@pytest.mark.parametrize("region", ["Frankfurt", "mock-region-us-east-1", "minio-local"])
def test_region_not_in_aws_form_is_kept_with_a_warning(region: str) -> None:
    # Private clouds, MinIO and tests name regions their own way; boto3 and prefect-aws accept
    # them, so Blocks warns instead of refusing.
    with pytest.warns(UnusualValueWarning, match="region_name") as caught:
        creds = AwsCredentials(region_name=region, aws_access_key_id="AKIAEXAMPLE",
                               aws_secret_access_key="s3cr3t-not-in-warnings")
    assert creds.get_boto3_session().region_name == region
    assert "s3cr3t" not in str(caught[0].message)
    with pytest.warns(UnusualValueWarning, match="region_name"):
        assert MinIOCredentials(minio_root_user="u", minio_root_password="p",
                                region_name=region).region_name == region


def test_role_arn_must_be_an_iam_role_arn() -> None:
    assert "role_arn" in rule_errors(role_arn="arn:aws:s3:::bucket")


def test_role_session_name_and_external_id_need_a_role() -> None:
    errors = rule_errors(role_session_name="etl", external_id="ext-1")
    assert {"role_session_name", "external_id"} <= set(errors)


def test_role_session_name_charset() -> None:
    assert "role_session_name" in rule_errors(role_arn=ROLE_ARN, role_session_name="has space")


def test_endpoint_url_must_be_http() -> None:
    errors = rule_errors(aws_client_parameters={"endpoint_url": "ftp://x"})
    assert "aws_client_parameters.endpoint_url" in errors


def test_unknown_field_is_refused() -> None:
    assert "aws_secret_key" in rule_errors(aws_secret_key="x")


def test_validation_errors_never_contain_the_secret() -> None:
    with pytest.raises(ValidationError) as info:
        AwsCredentials(aws_secret_access_key="s3cr3t-never-shown", region_name="nope")
    assert "s3cr3t-never-shown" not in str(info.value)


def test_no_credentials_means_the_default_chain() -> None:
    creds = AwsCredentials()
    assert creds.aws_access_key_id is None and creds.role_arn is None


@pytest.mark.parametrize("folder", ["../up", "a/../../b", ".."])
def test_bucket_folder_refuses_parent_segments(folder: str) -> None:
    with pytest.raises(ValidationError) as info:
        S3Bucket(bucket_name="data-lake", bucket_folder=folder)
    assert [path for path, _ in info.value.errors] == ["bucket_folder"]


def test_bucket_folder_is_normalised() -> None:
    assert S3Bucket(bucket_name="data-lake", bucket_folder="/raw/./in/").bucket_folder == "raw/in"


@pytest.mark.parametrize("name", ["ab", "data lake", "lake/raw", "a" * 256, "l\u00e4ke", ""])
def test_bucket_name_s3_never_accepts_is_refused(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        S3Bucket(bucket_name=name)
    assert [path for path, _ in info.value.errors] == ["bucket_name"]


@pytest.mark.parametrize("name", ["Data-Lake", "test_bucket", "-lake", "a" * 64, "two..dots"])
def test_legacy_bucket_name_is_kept_with_a_warning(name: str) -> None:
    # us-east-1 still has buckets named so (and S3-compatible stores accept them).
    with pytest.warns(UnusualValueWarning, match="bucket_name") as caught:
        bucket = S3Bucket(bucket_name=name)
    assert bucket.bucket_name == name and name in str(caught[0].message)


def test_nested_credential_errors_name_the_nested_field() -> None:
    with pytest.raises(ValidationError) as info:
        S3Bucket(bucket_name="data-lake", credentials={"aws_access_key_id": "AKIA"})
    assert [path for path, _ in info.value.errors] == ["credentials.aws_secret_access_key"]


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../b", "", "/", "."])
def test_paths_cannot_leave_the_folder(path: str) -> None:
    bucket = S3Bucket(bucket_name="data-lake", bucket_folder="team")
    with pytest.raises(ValueError):
        bucket.key_for(path)


def test_key_for_joins_folder_and_path() -> None:
    assert S3Bucket(bucket_name="data-lake", bucket_folder="team").key_for("/a//b.csv") == (
        "team/a/b.csv")
    assert S3Bucket(bucket_name="data-lake").key_for("a/b.csv") == "a/b.csv"


# -- against moto ----------------------------------------------------------------------------------


@pytest.fixture
def moto_credentials(moto_server: Server, monkeypatch: pytest.MonkeyPatch) -> AwsCredentials:
    """Explicit test keys pointed at moto; ambient AWS settings are cleared."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                "AWS_ENDPOINT_URL_STS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return AwsCredentials(
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
        region_name="us-east-1",
        aws_client_parameters={"endpoint_url": moto_server.url},
    )


@pytest.fixture
def bucket_name(moto_credentials: AwsCredentials) -> str:
    name = f"blocks-{secrets.token_hex(4)}"
    moto_credentials.get_client("s3").create_bucket(Bucket=name)
    return name


def test_write_then_read_in_a_folder(moto_credentials: AwsCredentials, bucket_name: str) -> None:
    bucket = S3Bucket(bucket_name=bucket_name, bucket_folder="team/raw",
                      credentials=moto_credentials)
    key = bucket.write_path("2026/11/21.csv", b"a,b\n1,2\n")
    assert key == "team/raw/2026/11/21.csv"
    assert bucket.read_path("2026/11/21.csv") == b"a,b\n1,2\n"
    raw = moto_credentials.get_client("s3").get_object(Bucket=bucket_name, Key=key)
    assert raw["Body"].read() == b"a,b\n1,2\n"


def test_list_objects_stays_inside_the_folder(
    moto_credentials: AwsCredentials, bucket_name: str
) -> None:
    s3 = moto_credentials.get_client("s3")
    s3.put_object(Bucket=bucket_name, Key="team/raw-other/x", Body=b"no")
    s3.put_object(Bucket=bucket_name, Key="outside.txt", Body=b"no")
    bucket = S3Bucket(bucket_name=bucket_name, bucket_folder="team/raw",
                      credentials=moto_credentials)
    for path in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        bucket.write_path(path, path.encode())

    everything = bucket.list_objects()
    assert [o["Key"] for o in everything] == [
        "team/raw/a.txt", "team/raw/sub/b.txt", "team/raw/sub/deeper/c.txt"]
    assert all(isinstance(o["Size"], int) for o in everything)
    assert [o["Key"] for o in bucket.list_objects("sub/deeper")] == [
        "team/raw/sub/deeper/c.txt"]
    assert bucket.list_objects("missing") == []


def test_list_objects_pages_through_many_keys(
    moto_credentials: AwsCredentials, bucket_name: str
) -> None:
    s3 = moto_credentials.get_client("s3")
    keys = [f"many/{i:02d}" for i in range(25)]
    for key in keys:
        s3.put_object(Bucket=bucket_name, Key=key, Body=b"")
    bucket = S3Bucket(bucket_name=bucket_name, credentials=moto_credentials)
    assert [o["Key"] for o in bucket.list_objects("many", page_size=10)] == keys
    assert len(bucket.list_objects("many")) == 25


def test_read_missing_object_raises_the_s3_error(
    moto_credentials: AwsCredentials, bucket_name: str
) -> None:
    from botocore.exceptions import ClientError

    bucket = S3Bucket(bucket_name=bucket_name, credentials=moto_credentials)
    with pytest.raises(ClientError, match="NoSuchKey"):
        bucket.read_path("absent.txt")


def test_saved_bucket_works_after_load(
    sqlite_registry: Registry, moto_credentials: AwsCredentials, bucket_name: str
) -> None:
    moto_credentials.save("moto", registry=sqlite_registry)
    S3Bucket(bucket_name=bucket_name, bucket_folder="landing",
             credentials=moto_credentials).save("landing", registry=sqlite_registry)

    bucket = S3Bucket.load("landing", registry=sqlite_registry)
    assert bucket.write_path("hello.txt", b"hi") == "landing/hello.txt"
    assert bucket.read_path("hello.txt") == b"hi"


def test_role_is_assumed_through_sts(moto_credentials: AwsCredentials) -> None:
    creds = moto_credentials.model_copy(
        update={"role_arn": ROLE_ARN, "role_session_name": "nightly", "external_id": "ext-7"}
    )
    session = creds.get_boto3_session()
    frozen = session.get_credentials().get_frozen_credentials()
    assert frozen.access_key != "testing"
    assert frozen.token
    identity = creds.get_client("sts").get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/blocks-loader/nightly")


def test_role_credentials_reach_s3(moto_credentials: AwsCredentials, bucket_name: str) -> None:
    creds = AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
        region_name="us-east-1", aws_client_parameters=moto_credentials.aws_client_parameters,
        role_arn=ROLE_ARN,
    )
    bucket = S3Bucket(bucket_name=bucket_name, credentials=creds)
    bucket.write_path("via-role.txt", b"ok")
    assert bucket.read_path("via-role.txt") == b"ok"
    identity = creds.get_client("sts").get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/blocks-loader/blocks")


def test_clients_are_cached_until_a_field_changes(moto_credentials: AwsCredentials) -> None:
    first = moto_credentials.get_client("s3")
    assert moto_credentials.get_client("s3") is first
    moto_credentials.region_name = "eu-west-1"
    second = moto_credentials.get_client("s3")
    assert second is not first
    assert second.meta.region_name == "eu-west-1"


def test_client_kwargs_override_the_block(moto_credentials: AwsCredentials) -> None:
    client = moto_credentials.get_client("s3", region_name="ap-south-1")
    assert client.meta.region_name == "ap-south-1"
    assert client is not moto_credentials.get_client("s3")


def test_botocore_config_is_applied(moto_server: Server) -> None:
    creds = AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
        region_name="us-east-1",
        aws_client_parameters={"endpoint_url": moto_server.url,
                               "config": {"retries": {"max_attempts": 7},
                                          "s3": {"addressing_style": "path"}}},
    )
    client = creds.get_client("s3")
    assert client.meta.config.retries["total_max_attempts"] == 8  # botocore adds the first try
    assert client.meta.config.s3["addressing_style"] == "path"


def test_equal_blocks_share_cached_clients(moto_credentials: AwsCredentials) -> None:
    twin = AwsCredentials.model_validate(moto_credentials.model_dump())
    assert twin.get_client("s3") is moto_credentials.get_client("s3")
