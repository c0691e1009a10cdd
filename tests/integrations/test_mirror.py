"""Blocks mirrored into a real Prefect server: Prefect's own types, re-push on save, status."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import GitHubCredentials, Registry, Secret, Settings
from blocks.cli.main import main
from blocks.errors import PrefectError
from blocks.integrations.mirrors import MirrorTarget, add_mirror, mirror_status
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import read_document
from blocks.integrations.prefect.mirror import PrefectMirror
from tests.integrations.mirror_contract import MirrorTargetContract
from tests.servers import Server, closed_port_url


class TestPrefectMirrorContract(MirrorTargetContract):
    @pytest.fixture
    def target(self, bridge_registry: Registry) -> Iterator[MirrorTarget]:
        mirror = PrefectMirror(bridge_registry)
        yield mirror
        mirror.close()


def test_mirrored_secret_is_a_prefect_secret_document_and_follows_every_save(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    Secret(value="first-pass").save("db-pass", registry=bridge_registry, mirror_to_prefect=True)
    assert read_document(prefect, "secret", "db-pass")["data"] == {"value": "first-pass"}

    Secret(value="second-pass").save("db-pass", overwrite=True, registry=bridge_registry)
    assert read_document(prefect, "secret", "db-pass")["data"] == {"value": "second-pass"}
    [status] = mirror_status(bridge_registry)
    assert (status.ref, status.target_ref, status.pushed_version, status.state) == (
        "secret/db-pass", "secret/db-pass", 2, "current")


def test_block_with_a_prefect_type_is_written_as_that_type(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    GitHubCredentials(token="ghp_mirror").save("ci", registry=bridge_registry)
    status = add_mirror(bridge_registry, "github-credentials/ci", "prefect")
    assert status.target_ref == "github-credentials/ci"  # prefect-github's own type
    assert read_document(prefect, "github-credentials", "ci")["data"] == {"token": "ghp_mirror"}


def test_block_without_a_prefect_type_gets_one_registered_from_the_blocks_schema(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    from tests.core.models import TestCreds

    TestCreds(user="svc", password="pw-own-type").save("own", registry=bridge_registry)
    status = add_mirror(bridge_registry, "test-creds/own", "prefect")
    assert status.target_ref == "blocks-test-creds/own"
    doc = read_document(prefect, "blocks-test-creds", "own")
    assert doc["data"]["user"] == "svc" and doc["data"]["password"] == "pw-own-type"
    schema = prefect.request("GET", f"block_schemas/{doc['block_schema_id']}", "schema")
    assert "password" in schema["fields"]["secret_fields"]
    masked = prefect.request("GET", f"block_documents/{doc['id']}", "doc")["data"]
    assert masked["password"] != "pw-own-type"  # Prefect masks it as a secret field


def test_cli_mirror_status_and_rm(
    bridge_registry: Registry, prefect: PrefectClient, capsys: pytest.CaptureFixture[str]
) -> None:
    Secret(value="never-printed-9f2").save("cli-pass", registry=bridge_registry)
    assert main(["mirror", "secret/cli-pass", "--to", "prefect"]) == 0
    assert main(["mirror", "status"]) == 0
    out, err = capsys.readouterr()
    assert "secret/cli-pass" in out and "current" in out
    assert "never-printed-9f2" not in out + err
    assert main(["mirror", "secret/cli-pass", "--rm"]) == 0
    assert read_document(prefect, "secret", "cli-pass") is None
    assert mirror_status(bridge_registry) == []


def test_failed_push_keeps_the_save_records_the_error_and_push_retries(
    blocks_home: Path, prefect_server: object, prefect: PrefectClient
) -> None:
    url = prefect_server.url
    reg = Registry(Settings(home=blocks_home, prefect_api_url=url))
    Secret(value="v1").save("retry", registry=reg, mirror_to_prefect=True)
    down = Registry(Settings(home=blocks_home, prefect_api_url=closed_port_url() + "/api"))
    with pytest.raises(PrefectError) as caught:
        Secret(value="v2-secret").save("retry", overwrite=True, registry=down)
    assert "secret/retry is saved in Blocks (version 2)" in str(caught.value)
    assert "v2-secret" not in str(caught.value)
    assert down.load("secret/retry").get() == "v2-secret"  # type: ignore[attr-defined]
    [status] = mirror_status(down)
    assert status.state == "error" and "unreachable" in (status.last_error or "")
    from blocks.integrations.mirrors import push_stale

    push_stale(reg)
    assert read_document(prefect, "secret", "retry")["data"] == {"value": "v2-secret"}
    assert mirror_status(reg)[0].state == "current"
    down.close()
    reg.close()


def test_saving_an_unmirrored_block_imports_no_http_client(tmp_path: Path) -> None:
    code = (f"import os; os.environ['BLOCKS_HOME'] = {str(tmp_path)!r}\n"
            "from blocks import Secret\nSecret(value='x').save('x')\n"
            "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_deleting_a_mirrored_block_deletes_its_copy_and_refuses_while_prefect_is_down(
    blocks_home: Path, prefect_server: Server, prefect: PrefectClient
) -> None:
    reg = Registry(Settings(home=blocks_home, prefect_api_url=prefect_server.url))
    Secret(value="gone-soon").save("deleted-pass", registry=reg, mirror_to_prefect=True)
    down = Registry(Settings(home=blocks_home, prefect_api_url=closed_port_url() + "/api"))
    with pytest.raises(PrefectError) as caught:
        Secret.delete("deleted-pass", registry=down)
    message = str(caught.value)
    assert "secret/deleted-pass is mirrored to prefect" in message
    assert "nothing was deleted" in message and "--rm --keep" in message
    assert "gone-soon" not in message
    assert Secret.load("deleted-pass", registry=reg).get() == "gone-soon"
    assert read_document(prefect, "secret", "deleted-pass") is not None
    assert [s.state for s in mirror_status(reg)] == ["current"]

    Secret.delete("deleted-pass", registry=reg)
    assert read_document(prefect, "secret", "deleted-pass") is None
    assert reg.list() == [] and mirror_status(reg) == []
    down.close()
    reg.close()


def test_a_referenced_mirrored_block_is_not_deleted_and_keeps_its_copy(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    from blocks import AwsCredentials, S3Bucket
    from blocks.errors import ReferencedBlockError

    creds = AwsCredentials(aws_access_key_id="AKIAKEEP", aws_secret_access_key="keep-me")
    creds.save("kept", registry=bridge_registry)
    status = add_mirror(bridge_registry, "aws-credentials/kept", "prefect")
    S3Bucket(bucket_name="kept-lake", credentials=AwsCredentials.load(
        "kept", registry=bridge_registry)).save("kept", registry=bridge_registry)
    slug, _, name = (status.target_ref or "").partition("/")
    with pytest.raises(ReferencedBlockError):
        AwsCredentials.delete("kept", registry=bridge_registry)
    doc = read_document(prefect, slug, name)
    assert doc is not None and doc["data"]["aws_secret_access_key"] == "keep-me"
    assert [s.state for s in mirror_status(bridge_registry)] == ["current"]


def test_cli_delete_of_a_mirrored_block_deletes_the_copy(
    bridge_registry: Registry, prefect: PrefectClient, capsys: pytest.CaptureFixture[str]
) -> None:
    Secret(value="cli-gone").save("cli-deleted", registry=bridge_registry,
                                  mirror_to_prefect=True)
    assert main(["rm", "secret/cli-deleted", "--yes"]) == 0
    assert read_document(prefect, "secret", "cli-deleted") is None
    assert "cli-gone" not in "".join(capsys.readouterr())


def test_a_block_deleted_with_a_window_loses_its_copy_at_once_and_undo_does_not_remirror(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    Secret(value="windowed").save("windowed", registry=bridge_registry, mirror_to_prefect=True)
    bridge_registry.delete("secret/windowed")  # the default 7-day recovery window
    assert read_document(prefect, "secret", "windowed") is None
    assert mirror_status(bridge_registry) == []
    assert [d.ref for d in bridge_registry.deleted()] == ["secret/windowed"]
    bridge_registry.undelete("secret/windowed")
    assert Secret.load("windowed", registry=bridge_registry).get() == "windowed"
    assert read_document(prefect, "secret", "windowed") is None and \
        mirror_status(bridge_registry) == []  # mirror it again to get a copy back
    add_mirror(bridge_registry, "secret/windowed", "prefect")
    assert read_document(prefect, "secret", "windowed")["data"] == {"value": "windowed"}
