"""prefect-aws's S3Bucket/AwsCredentials surface on our types, against the moto server; and
prefect-aws documents (made by the real prefect-aws classes) accepted as they are."""

from __future__ import annotations

import asyncio
import io
import secrets
from pathlib import Path
from typing import Any

import pytest

from blocks import AwsCredentials, MinIOCredentials, Registry, S3Bucket, ValidationError
from tests.servers import Server

pytestmark = pytest.mark.aws

ROLE_ARN = "arn:aws:iam::123456789012:role/blocks-loader"


@pytest.fixture
def creds(moto_server: Server, monkeypatch: pytest.MonkeyPatch) -> AwsCredentials:
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
        region_name="us-east-1", aws_client_parameters={"endpoint_url": moto_server.url},
    )


def new_bucket(creds: AwsCredentials | MinIOCredentials, folder: str = "team") -> S3Bucket:
    name = f"blocks-{secrets.token_hex(4)}"
    creds.get_s3_client().create_bucket(Bucket=name)
    return S3Bucket(bucket_name=name, bucket_folder=folder, credentials=creds)


def keys(bucket: S3Bucket) -> list[str]:
    raw = bucket.get_s3_client().list_objects_v2(Bucket=bucket.bucket_name)
    return sorted(o["Key"] for o in raw.get("Contents", []))


# -- prefect-aws documents -----------------------------------------------------------------------


def prefect_document(block: Any) -> dict[str, Any]:
    """A block document's data as a Prefect server stores it (secrets included)."""
    return block.model_dump(  # type: ignore[no-any-return]
        mode="json", by_alias=True, exclude={"block_type_slug"},
        context={"include_secrets": True},
    )


def test_prefect_aws_credentials_document_with_role_and_null_verify_loads() -> None:
    import prefect_aws

    theirs = prefect_aws.AwsCredentials(
        aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="s3cr3t-doc",
        region_name="eu-west-1", assume_role_arn=ROLE_ARN,
        assume_role_kwargs={"RoleSessionName": "etl", "DurationSeconds": 900},
    )
    doc = prefect_document(theirs)
    assert doc["aws_client_parameters"]["verify"] is None  # what real documents carry
    ours = AwsCredentials.model_validate(doc)
    assert ours.role_arn == ours.assume_role_arn == ROLE_ARN
    assert ours.assume_role_kwargs == {"RoleSessionName": "etl", "DurationSeconds": 900}
    assert ours.aws_secret_access_key is not None
    assert ours.aws_secret_access_key.get_secret_value() == "s3cr3t-doc"
    assert "verify" not in ours.aws_client_parameters.client_kwargs()  # null = verify


def test_prefect_minio_and_s3_bucket_documents_load() -> None:
    import prefect_aws

    minio = prefect_aws.MinIOCredentials(
        minio_root_user="admin", minio_root_password="minio-pass",
        aws_client_parameters={"endpoint_url": "http://127.0.0.1:9000"},
    )
    bucket = prefect_aws.S3Bucket(bucket_name="data-lake", bucket_folder="raw",
                                  credentials=minio)
    ours = S3Bucket.model_validate(prefect_document(bucket))
    assert isinstance(ours.credentials, MinIOCredentials)
    assert ours.credentials.minio_root_password.get_secret_value() == "minio-pass"


def test_assume_role_kwargs_rules_name_the_key() -> None:
    with pytest.raises(ValidationError) as info:
        AwsCredentials(assume_role_kwargs={"DurationSeconds": 900})
    assert [p for p, _ in info.value.errors] == ["assume_role_kwargs"]
    with pytest.raises(ValidationError) as info:
        AwsCredentials(role_arn=ROLE_ARN, role_session_name="a-b",
                       assume_role_kwargs={"RoleSessionName": "c-d", "Bogus": 1})
    assert {p for p, _ in info.value.errors} == {
        "assume_role_kwargs.RoleSessionName", "assume_role_kwargs.Bogus"}


def test_credentials_errors_name_the_kind_that_was_meant() -> None:
    with pytest.raises(ValidationError) as info:
        S3Bucket(bucket_name="data-lake", credentials={"minio_root_user": "admin"})
    assert [p for p, _ in info.value.errors] == ["credentials.minio_root_password"]


def test_assume_role_kwargs_reach_sts(creds: AwsCredentials) -> None:
    role = creds.model_copy(update={
        "role_arn": ROLE_ARN, "assume_role_kwargs": {"RoleSessionName": "from-kwargs",
                                                     "DurationSeconds": 900}})
    identity = role.get_client("sts").get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/blocks-loader/from-kwargs")


def test_secrets_manager_client(creds: AwsCredentials) -> None:
    client = creds.get_secrets_manager_client()
    name = f"blocks-{secrets.token_hex(4)}"
    client.create_secret(Name=name, SecretString="v")
    assert client.get_secret_value(SecretId=name)["SecretString"] == "v"


# -- transfers -----------------------------------------------------------------------------------


def test_upload_and_download_a_file(creds: AwsCredentials, tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    source = tmp_path / "in.bin"
    source.write_bytes(secrets.token_bytes(9 * 1024 * 1024))  # above the multipart threshold
    assert bucket.upload_from_path(source, "data/in.bin") == "team/data/in.bin"
    assert bucket.upload_from_path(source) == "team/in.bin"
    target = bucket.download_object_to_path("data/in.bin", tmp_path / "out" / "copy.bin")
    assert target == (tmp_path / "out" / "copy.bin").absolute()
    assert target.read_bytes() == source.read_bytes()


def test_failed_download_leaves_no_file(creds: AwsCredentials, tmp_path: Path) -> None:
    from botocore.exceptions import ClientError

    bucket = new_bucket(creds)
    with pytest.raises(ClientError):
        bucket.download_object_to_path("absent.bin", tmp_path / "absent.bin")
    assert list(tmp_path.iterdir()) == []


def test_file_objects_both_ways(creds: AwsCredentials) -> None:
    bucket = new_bucket(creds)
    bucket.upload_from_file_object(io.BytesIO(b"payload"), "obj.txt")
    out = io.BytesIO()
    assert bucket.download_object_to_file_object("obj.txt", out) is out
    assert out.getvalue() == b"payload"


def test_folders_both_ways_stay_inside_the_folder(creds: AwsCredentials, tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    assert bucket.upload_from_folder(src, "up") == "up"
    assert keys(bucket) == ["team/up/a.txt", "team/up/sub/b.txt"]
    assert bucket.upload_from_folder(tmp_path / "src" / "sub" / "..", "up") == "up"
    (tmp_path / "empty").mkdir()
    assert bucket.upload_from_folder(tmp_path / "empty") is None
    out = bucket.download_folder_to_path("up", tmp_path / "down")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.txt", "sub/b.txt"]


def test_download_folder_refuses_keys_that_escape(creds: AwsCredentials, tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    bucket.get_s3_client().put_object(Bucket=bucket.bucket_name, Key="team/x/../../evil",
                                      Body=b"no")
    with pytest.raises(ValueError, match="outside"):
        bucket.download_folder_to_path("x", tmp_path / "down")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "down").exists()


@pytest.mark.parametrize("path", ["../x", "a/../../x"])
def test_transfer_paths_cannot_leave_the_folder(creds: AwsCredentials, path: str,
                                                tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    (tmp_path / "f").write_text("x")
    for call in (lambda: bucket.upload_from_path(tmp_path / "f", path),
                 lambda: bucket.download_object_to_path(path, tmp_path / "g"),
                 lambda: bucket.list_objects(path),
                 lambda: bucket.copy_object("f", path)):
        with pytest.raises(ValueError, match=r"\.\."):
            call()


def test_stream_copy_and_move(creds: AwsCredentials) -> None:
    one, two = new_bucket(creds, "one"), new_bucket(creds, "two")
    one.write_path("a.txt", b"A")
    assert two.stream_from(one, "a.txt", "in/a.txt") == "two/in/a.txt"
    assert two.read_path("in/a.txt") == b"A"
    assert one.copy_object("a.txt", "b.txt") == "one/b.txt"
    assert one.copy_object("a.txt", "c.txt", to_bucket=two) == "two/c.txt"
    assert one.copy_object("a.txt", "raw/d.txt", to_bucket=two.bucket_name) == "raw/d.txt"
    assert one.move_object("b.txt", "moved.txt") == "one/moved.txt"
    assert keys(one) == ["one/a.txt", "one/moved.txt"]
    assert keys(two) == ["raw/d.txt", "two/c.txt", "two/in/a.txt"]


def test_list_objects_delimiter_max_items_and_jmespath(creds: AwsCredentials) -> None:
    bucket = new_bucket(creds)
    for path, size in (("a.txt", 1), ("b.txt", 300), ("sub/c.txt", 500)):
        bucket.write_path(path, b"x" * size)
    assert [o["Key"] for o in bucket.list_objects(delimiter="/")] == [
        "team/a.txt", "team/b.txt"]
    assert len(bucket.list_objects(max_items=2)) == 2
    big = bucket.list_objects(jmespath_query="Contents[?Size > `100`][]")
    assert [o["Key"] for o in big] == ["team/b.txt", "team/sub/c.txt"]


def test_put_and_get_directory_with_ignore_file(creds: AwsCredentials, tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    src = tmp_path / "proj"
    (src / "cache").mkdir(parents=True)
    (src / "flow.py").write_text("print(1)")
    (src / "notes.log").write_text("x")
    (src / "cache" / "blob").write_text("x")
    ignore = tmp_path / ".prefectignore"
    ignore.write_text("# build junk\n*.log\ncache/\n")
    assert bucket.put_directory(str(src), "deploy", ignore_file=str(ignore)) == 1
    assert keys(bucket) == ["team/deploy/flow.py"]
    bucket.get_directory("deploy", str(tmp_path / "got"))
    assert (tmp_path / "got" / "flow.py").read_text() == "print(1)"


def test_minio_credentials_work_as_bucket_credentials(moto_server: Server) -> None:
    minio = MinIOCredentials(minio_root_user="admin", minio_root_password="minio-secret",
                             region_name="us-east-1",
                             aws_client_parameters={"endpoint_url": moto_server.url})
    bucket = new_bucket(minio)
    bucket.write_path("m.txt", b"via minio")
    assert bucket.read_path("m.txt") == b"via minio"


def test_saved_minio_bucket_loads_its_credentials(sqlite_registry: Registry,
                                                  moto_server: Server) -> None:
    minio = MinIOCredentials(minio_root_user="admin", minio_root_password="minio-secret",
                             region_name="us-east-1",
                             aws_client_parameters={"endpoint_url": moto_server.url})
    minio.save("lake-minio", registry=sqlite_registry)
    new_bucket(minio).save("lake", registry=sqlite_registry)
    loaded = S3Bucket.load("lake", registry=sqlite_registry)
    assert isinstance(loaded.credentials, MinIOCredentials)
    assert loaded.credentials.block_ref == "minio-credentials/lake-minio"
    loaded.write_path("ok.txt", b"ok")


def test_async_twins(creds: AwsCredentials, tmp_path: Path) -> None:
    bucket = new_bucket(creds)
    (tmp_path / "f.txt").write_text("async")

    async def run() -> list[Any]:
        return [
            await bucket.aupload_from_path(tmp_path / "f.txt", "f.txt"),
            await bucket.aread_path("f.txt"),
            await bucket.awrite_path("g.txt", b"g"),
            [o["Key"] for o in await bucket.alist_objects()],
            (await bucket.adownload_object_to_path("g.txt", tmp_path / "g.txt")).read_bytes(),
            await bucket.acopy_object("g.txt", "h.txt"),
            await bucket.amove_object("h.txt", "i.txt"),
        ]

    assert asyncio.run(run()) == [
        "team/f.txt", b"async", "team/g.txt", ["team/f.txt", "team/g.txt"], b"g",
        "team/h.txt", "team/i.txt"]
