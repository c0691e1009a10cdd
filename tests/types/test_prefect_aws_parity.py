"""What prefect-aws accepts and does, Blocks accepts and does (issue 18): botocore ``Config`` and
``Path`` in client parameters, ``get_params_override``, ``AssumeRoleParameters``, hashable
blocks, ``ClientType``, raw-prefix listing, the empty-folder log line, and Prefect 3's async
dispatch of the I/O methods. Real S3 and STS: the moto server."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config

from blocks import AwsCredentials, MinIOCredentials, Registry, S3Bucket
from blocks.types.aws import AssumeRoleParameters, AwsClientParameters, ClientType
from tests.types.test_aws import ROLE_ARN, bucket_name, moto_credentials

__all__ = ["bucket_name", "moto_credentials"]  # fixtures shared with test_aws.py

pytestmark = [pytest.mark.aws, pytest.mark.over_http]  # registry: through a blocks server too


def test_botocore_config_object_is_stored_as_its_options(registry: Registry) -> None:
    params = AwsClientParameters(config=Config(signature_version=UNSIGNED,
                                               retries={"max_attempts": 4}))
    assert params.config == {"signature_version": "unsigned", "retries": {"max_attempts": 4}}
    AwsCredentials(aws_client_parameters=params).save("cfg", registry=registry)
    loaded = AwsCredentials.load("cfg", registry=registry).aws_client_parameters
    override = loaded.get_params_override()
    assert override["config"].signature_version is UNSIGNED
    assert override["config"].retries == {"max_attempts": 4}


def test_get_params_override_gives_what_prefect_aws_gives(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert AwsClientParameters().get_params_override() == {"use_ssl": True}
    assert AwsClientParameters(verify=False, endpoint_url="http://h:1").get_params_override() == {
        "use_ssl": True, "verify": False, "endpoint_url": "http://h:1"}
    with_path = AwsClientParameters(verify_cert_path=bundle)
    assert with_path.verify_cert_path == str(bundle)
    assert with_path.get_params_override()["verify"] == bundle
    with pytest.warns(UserWarning, match="verify_cert_path will be ignored"):
        dropped = AwsClientParameters(verify=False, verify_cert_path=bundle)
    assert dropped.verify_cert_path is None and dropped.client_kwargs() == {"verify": False}


def test_assume_role_parameters_reach_sts(moto_credentials: AwsCredentials) -> None:
    params = AssumeRoleParameters(RoleSessionName="nightly-etl", DurationSeconds=900)
    assert params.get_params_override() == {"RoleSessionName": "nightly-etl",
                                            "DurationSeconds": 900}
    creds = AwsCredentials(**{**dict(moto_credentials), "role_arn": ROLE_ARN,
                              "assume_role_kwargs": params})
    assert creds.assume_role_kwargs == {"RoleSessionName": "nightly-etl", "DurationSeconds": 900}
    arn = creds.get_client("sts").get_caller_identity()["Arn"]
    assert arn.endswith("assumed-role/blocks-loader/nightly-etl")


def test_equal_blocks_hash_equal_and_serve_as_cache_keys(registry: Registry) -> None:
    creds = AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="s3cr3t-h",
                           region_name="us-east-1",
                           aws_client_parameters={"config": {"retries": {"max_attempts": 3}}})
    creds.save("hashed", registry=registry)
    loaded = AwsCredentials.load("hashed", registry=registry)
    assert loaded == creds and hash(loaded) == hash(creds)
    other = creds.model_copy(update={"aws_secret_access_key": "another"})
    assert hash(other) != hash(creds)

    calls: list[str] = []

    @functools.lru_cache(maxsize=4)
    def client_for(block: Any, service: str) -> str:  # prefect-aws's _get_client_cached shape
        calls.append(service)
        return service

    client_for(creds, "s3")
    client_for(loaded, "s3")
    assert calls == ["s3"]
    bucket = S3Bucket(bucket_name="data-lake", credentials=creds)
    assert hash(bucket) == hash(S3Bucket(bucket_name="data-lake", credentials=loaded))
    bucket.bucket_folder = "raw"
    assert hash(bucket) != hash(S3Bucket(bucket_name="data-lake", credentials=loaded))


def test_get_client_takes_prefect_aws_client_type(moto_credentials: AwsCredentials) -> None:
    assert moto_credentials.get_client(ClientType.S3) is moto_credentials.get_client("s3")
    minio = MinIOCredentials(minio_root_user="u", minio_root_password="p",
                             region_name="us-east-1")
    assert minio.get_client(ClientType.SECRETS_MANAGER).meta.service_model.service_name == (
        "secretsmanager")


def test_list_objects_takes_the_folder_as_a_raw_prefix(
    moto_credentials: AwsCredentials, bucket_name: str
) -> None:
    bucket = S3Bucket(bucket_name=bucket_name, bucket_folder="team",
                      credentials=moto_credentials)
    for path in ("logs/a", "logs-old/b", "logsx", "other"):
        bucket.write_path(path, b"x")
    moto_credentials.get_client("s3").put_object(Bucket=bucket_name, Key="teamlogs", Body=b"")
    keys = lambda folder: [o["Key"] for o in bucket.list_objects(folder)]  # noqa: E731
    assert keys("logs") == ["team/logs-old/b", "team/logs/a", "team/logsx"]
    assert keys("logs/") == ["team/logs/a"]
    assert keys("") == ["team/logs-old/b", "team/logs/a", "team/logsx", "team/other"]


def test_upload_from_an_empty_folder_logs_a_warning(
    moto_credentials: AwsCredentials, bucket_name: str, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bucket = S3Bucket(bucket_name=bucket_name, credentials=moto_credentials)
    with caplog.at_level(logging.WARNING, logger="blocks"):
        assert bucket.upload_from_folder(tmp_path) is None
    assert f"No files were uploaded from {str(tmp_path)!r}" in caplog.text


def test_io_methods_are_awaitable_in_async_code_and_plain_in_sync_code(
    moto_credentials: AwsCredentials, bucket_name: str, tmp_path: Path
) -> None:
    bucket = S3Bucket(bucket_name=bucket_name, bucket_folder="d", credentials=moto_credentials)
    assert bucket.write_path("sync.txt", b"s") == "d/sync.txt"  # no loop: the result

    async def flow_body() -> tuple[Any, ...]:
        pending = bucket.write_path("async.txt", b"a")
        assert asyncio.iscoroutine(pending)  # as Prefect 3's async_dispatch: nothing ran yet
        key = await pending
        body = await bucket.read_path(key.removeprefix("d/"))
        twin = await bucket.aread_path("sync.txt")
        forced = bucket.read_path("sync.txt", _sync=True)  # Prefect's escape hatch
        await bucket.get_directory(local_path=str(tmp_path))  # its inner calls run sync
        return key, body, twin, forced

    assert asyncio.run(flow_body()) == ("d/async.txt", b"a", b"s", b"s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["async.txt", "sync.txt"]
