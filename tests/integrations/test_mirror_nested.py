"""Mirrors stay true: a nested block's change (save, rollback, IAM key rotation) reaches the
mirrored parent that embeds it, ``AwsCredentials`` is Prefect's own ``aws-credentials``,
``mirror status`` reads what Prefect holds, and a failed push says what was saved.

Prefect's side is read with the real prefect-aws classes, in one subprocess per module pointed
at the session's Prefect server (each read a fresh ``load``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Settings
from blocks.cli.main import main
from blocks.errors import PrefectError
from blocks.integrations.mirrors import add_mirror, mirror_status, push_stale
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import read_document
from blocks.rotation import Rotation, RotationPolicy, set_rotation
from blocks.types.aws import AwsClientParameters
from tests.rotation import conftest as rotation_fixtures
from tests.rotation.conftest import MotoAuth, new_user
from tests.servers import Server, closed_port_url

moto_auth = rotation_fixtures.moto_auth  # moto with IAM authentication on (session fixture)

pytestmark = pytest.mark.aws

PREFECT_READ = """
import json, sys
from prefect_aws import AwsCredentials, S3Bucket
for line in sys.stdin:  # one "CREDS BUCKET" per question: prefect is imported once
    creds_name, bucket_name = line.split()
    creds = AwsCredentials.load(creds_name)
    bucket = S3Bucket.load(bucket_name)
    print(json.dumps({"creds": creds.aws_access_key_id,
                      "bucket": bucket.credentials.aws_access_key_id,
                      "bucket_type": type(bucket.credentials).__name__}), flush=True)
"""


class PrefectReader:
    """prefect-aws's own classes in one subprocess pointed at the session's Prefect server,
    loading blocks from it on request (importing prefect costs seconds of CPU: once per
    module, not once per read)."""

    def __init__(self, server: Server) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PREFECT_READ], env={**os.environ, "PREFECT_API_URL": server.url},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def holds(self, creds: str, bucket: str) -> dict[str, Any]:
        """What prefect-aws loads now: each call is a fresh ``load`` from the server."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{creds} {bucket}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            raise AssertionError(self.process.stderr.read()[-3000:] if self.process.stderr
                                 else "the prefect-aws reader exited")
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def prefect_aws(prefect_server: Server) -> Iterator[PrefectReader]:
    reader = PrefectReader(prefect_server)
    yield reader
    reader.close()


def save_pair(registry: Registry, moto: MotoAuth, tag: str) -> tuple[str, str]:
    _, key_id, secret = new_user(moto)
    creds = AwsCredentials(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(endpoint_url=moto.url),
    )
    creds.save(f"deployer-{tag}", registry=registry)
    S3Bucket(bucket_name="lake", credentials=creds).save(
        f"lake-{tag}", registry=registry, mirror_to_prefect=True)
    add_mirror(registry, f"aws-credentials/deployer-{tag}", "prefect")
    return f"aws-credentials/deployer-{tag}", f"s3-bucket/lake-{tag}"


def test_aws_credentials_mirror_as_prefects_own_type_and_load_with_prefect_aws(
    bridge_registry: Registry, prefect_aws: PrefectReader, prefect: PrefectClient,
    moto_auth: MotoAuth,
) -> None:
    creds_ref, _ = save_pair(bridge_registry, moto_auth, "native")
    status = next(s for s in mirror_status(bridge_registry) if s.ref == creds_ref)
    assert status.target_ref == "aws-credentials/deployer-native"
    doc = read_document(prefect, "aws-credentials", "deployer-native")
    assert doc is not None and "role_arn" not in doc["data"]  # null Blocks-only fields left out
    held = prefect_aws.holds("deployer-native", "lake-native")
    key_id = AwsCredentials.load(creds_ref, registry=bridge_registry).aws_access_key_id
    assert held == {"creds": key_id, "bucket": key_id, "bucket_type": "AwsCredentials"}


def test_iam_key_rotation_reaches_the_mirrored_bucket_that_nests_the_credentials(
    bridge_registry: Registry, prefect_aws: PrefectReader, moto_auth: MotoAuth,
    capsys: pytest.CaptureFixture[str],
) -> None:
    creds_ref, bucket_ref = save_pair(bridge_registry, moto_auth, "rot")
    old_key = AwsCredentials.load(creds_ref, registry=bridge_registry).aws_access_key_id
    set_rotation(creds_ref, RotationPolicy(rotator="aws-iam-access-key"),
                 registry=bridge_registry)
    assert Rotation(bridge_registry).rotate(creds_ref, force=True).status == "rotated"
    new_key = AwsCredentials.load(creds_ref, registry=bridge_registry).aws_access_key_id
    assert new_key != old_key

    held = prefect_aws.holds("deployer-rot", "lake-rot")
    assert held["creds"] == new_key and held["bucket"] == new_key
    assert {s.ref: s.state for s in mirror_status(bridge_registry, compare=True)} == {
        creds_ref: "current", bucket_ref: "current"}
    assert main(["mirror", "status"]) == 0
    out = capsys.readouterr().out
    assert "stale" not in out and bucket_ref in out


def test_rollback_of_a_nested_block_re_pushes_the_parent(
    bridge_registry: Registry, prefect_aws: PrefectReader, moto_auth: MotoAuth,
) -> None:
    creds_ref, _ = save_pair(bridge_registry, moto_auth, "back")
    first = AwsCredentials.load(creds_ref, registry=bridge_registry)
    changed = first.model_copy(update={"aws_access_key_id": "AKIAROLLEDFORWARD"})
    changed.save("deployer-back", overwrite=True, registry=bridge_registry)
    assert prefect_aws.holds("deployer-back", "lake-back")["bucket"] == (
        "AKIAROLLEDFORWARD")
    AwsCredentials.rollback("deployer-back", 1, registry=bridge_registry)
    held = prefect_aws.holds("deployer-back", "lake-back")
    assert held["bucket"] == held["creds"] == first.aws_access_key_id


def test_mirror_status_reads_prefect_and_reports_a_stale_copy(
    bridge_registry: Registry, prefect: PrefectClient, moto_auth: MotoAuth,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, bucket_ref = save_pair(bridge_registry, moto_auth, "drift")
    doc = read_document(prefect, "s3-bucket", "lake-drift")
    assert doc is not None
    edited = {**doc["data"], "bucket_folder": "edited-in-prefect"}
    prefect.request("PATCH", f"block_documents/{doc['id']}", "edit", json={
        "data": edited, "merge_existing_data": False})

    by_ref = {s.ref: s for s in mirror_status(bridge_registry, compare=True)}
    assert by_ref[bucket_ref].state == "stale"
    assert "differs" in (by_ref[bucket_ref].drift or "")
    assert main(["mirror", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{bucket_ref}" in out and "stale" in out
    assert main(["mirror", "push"]) == 0
    assert read_document(prefect, "s3-bucket", "lake-drift")["data"]["bucket_folder"] == ""
    assert all(s.state == "current" for s in mirror_status(bridge_registry, compare=True))


def test_failed_push_of_a_nesting_parent_says_what_was_saved_and_how_to_re_push(
    blocks_home: Path, prefect_server: Server, moto_auth: MotoAuth,
) -> None:
    reg = Registry(Settings(home=blocks_home, prefect_api_url=prefect_server.url))
    creds_ref, bucket_ref = save_pair(reg, moto_auth, "down")
    down = Registry(Settings(home=blocks_home, prefect_api_url=closed_port_url() + "/api"))
    changed = AwsCredentials.load(creds_ref, registry=down).model_copy(
        update={"aws_secret_access_key": "never-in-a-message-7c1"})
    with pytest.raises(PrefectError) as caught:
        changed.save("deployer-down", overwrite=True, registry=down)
    message = str(caught.value)
    assert f"{creds_ref} is saved in Blocks (version 2)" in message
    assert f"{bucket_ref} (which nests it)" in message and "'blocks mirror push'" in message
    assert "never-in-a-message-7c1" not in message
    assert {s.ref: s.state for s in mirror_status(down)} == {creds_ref: "error",
                                                             bucket_ref: "error"}
    push_stale(reg)
    assert all(s.state == "current" for s in mirror_status(reg, compare=True))
    down.close()
    reg.close()


def test_first_push_failing_after_a_save_says_the_block_is_saved_but_not_mirrored(
    blocks_home: Path,
) -> None:
    from blocks import Secret

    down = Registry(Settings(home=blocks_home, prefect_api_url=closed_port_url() + "/api"))
    with pytest.raises(PrefectError) as caught:
        Secret(value="first-push-secret-3d9").save("fresh", registry=down,
                                                   mirror_to_prefect=True)
    message = str(caught.value)
    assert "secret/fresh is saved in Blocks (version 1)" in message
    assert "not mirrored" in message and "blocks mirror secret/fresh --to prefect" in message
    assert "first-push-secret-3d9" not in message
    assert Secret.load("fresh", registry=down).get() == "first-push-secret-3d9"
    assert mirror_status(down) == []
    down.close()
