"""A real Prefect 3.8 server with basic auth on, and one refusing a template (HTTP 401, 422):
publish, mirror and import each fail with an error naming the server and the object, leave
Blocks as it was, and finish when rerun with the right credential (or a fixed template)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.errors import PrefectError
from blocks.integrations.mirrors import add_mirror, mirror_status, push_stale
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.documents import block_type, read_document
from blocks.integrations.prefect.importer import import_blocks
from blocks.integrations.prefect.publish import publish
from blocks.pools import WorkPool, default_base_job_template
from tests.conftest import _start_or_skip
from tests.integrations.auth_server import AUTH_STRING, start_prefect_with_auth
from tests.servers import Server

pytestmark = [pytest.mark.prefect]

WRONG = "blocks-admin:not-the-password-51f0"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second Prefect server, with ``PREFECT_SERVER_API_AUTH_STRING`` set."""
    server = _start_or_skip(start_prefect_with_auth, tmp_path_factory.mktemp("prefect-auth"))
    yield server
    server.stop()


@pytest.fixture
def admin(auth_server: Server) -> Iterator[PrefectClient]:
    """A client with the right auth string, to look at the server's side."""
    with PrefectClient(auth_server.url, auth_string=AUTH_STRING) as client:
        yield client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("BLOCKS_PREFECT_API_URL", "PREFECT_API_URL", "BLOCKS_PREFECT_API_AUTH_STRING",
                "PREFECT_API_AUTH_STRING", "BLOCKS_PREFECT_API_KEY", "PREFECT_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BLOCKS_HOME", str(tmp_path / "blocks"))
    Registry.reset_default()
    return tmp_path / "blocks"


def registry(home: Path, server: Server, auth: str | None) -> Registry:
    return Registry(Settings(home=home, prefect_api_url=server.url,
                             prefect_api_auth_string=auth))


def state(reg: Registry) -> dict[str, Any]:
    """Everything Blocks holds that these operations could write."""
    return {
        "blocks": [(b.type_slug, b.name, b.current_version) for b in reg.list()],
        "pools": [(p.name, p.version, [(q.name, q.priority) for q in p.queues(registry=reg)])
                  for p in WorkPool.list_pools(registry=reg)],
        "mirrors": [s.as_json() for s in mirror_status(reg)],
    }


def refused(caught: pytest.ExceptionInfo[PrefectError], server: Server, what: str) -> str:
    message = str(caught.value)
    assert server.url in message and what in message and "HTTP 401" in message, message
    assert AUTH_STRING.split(":")[1] not in message and WRONG.split(":")[1] not in message
    assert "BLOCKS_PREFECT_API_AUTH_STRING" in message
    return message


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.mark.parametrize("auth", [None, WRONG], ids=["missing", "wrong"])
def test_publish_refused_for_the_credential_then_a_rerun_with_it_finishes(
    home: Path, auth_server: Server, admin: PrefectClient, auth: str | None
) -> None:
    reg = registry(home, auth_server, auth)
    name = unique("auth-pool")
    WorkPool(name=name, type="process", description="guarded").save(registry=reg)
    WorkPool.load(name, registry=reg).create_queue("hot", priority=2, registry=reg)
    before = state(reg)
    with PrefectClient(settings=reg.settings) as client, pytest.raises(PrefectError) as caught:
        publish(client, [WorkPool.load(name, registry=reg)], reg)
    message = refused(caught, auth_server, f"work pool '{name}'")
    assert ("no credential was sent" if auth is None else "did not accept the auth string") in (
        message)
    assert state(reg) == before
    assert admin.request("GET", f"work_pools/{name}", "pool", missing_ok=True) is None

    good = registry(home, auth_server, AUTH_STRING)
    with PrefectClient(settings=good.settings) as client:
        publish(client, [WorkPool.load(name, registry=good)], good)
    pool = admin.request("GET", f"work_pools/{name}", "pool")
    assert pool["description"] == "guarded"
    assert admin.request("GET", f"work_pools/{name}/queues/hot", "queue")["priority"] == 2
    assert state(good) == before
    reg.close()
    good.close()


def test_cli_publish_reads_the_auth_string_from_the_environment_and_never_prints_it(
    home: Path, auth_server: Server, admin: PrefectClient, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = unique("cli-auth")
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", auth_server.url)
    assert main(["pools", "create", name, "--type", "process"]) == 0
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", WRONG)  # Prefect's own name is accepted too
    assert main(["pools", "publish", name]) == 1
    out, err = capsys.readouterr()
    assert auth_server.url in err and f"work pool '{name}'" in err and "HTTP 401" in err
    assert "did not accept the auth string" in err  # it was sent
    assert WRONG not in out + err and "not-the-password" not in out + err
    monkeypatch.setenv("BLOCKS_PREFECT_API_AUTH_STRING", AUTH_STRING)  # wins over PREFECT_…
    assert main(["pools", "publish", name]) == 0
    out, err = capsys.readouterr()
    assert AUTH_STRING not in out + err and "auth-s3cr3t" not in out + err
    assert admin.request("GET", f"work_pools/{name}", "pool")["type"] == "process"


def test_mirror_refused_for_the_credential_leaves_the_block_unmirrored_and_a_rerun_mirrors(
    home: Path, auth_server: Server, admin: PrefectClient
) -> None:
    reg = registry(home, auth_server, WRONG)
    name = unique("auth-pass")
    Secret(value="mirror-me-0d4").save(name, registry=reg)
    before = state(reg)
    with pytest.raises(PrefectError) as caught:
        add_mirror(reg, f"secret/{name}", "prefect")
    message = refused(caught, auth_server, f"secret/{name}")
    assert f"Rerun 'blocks mirror secret/{name} --to prefect'" in message
    assert "mirror-me-0d4" not in message
    assert state(reg) == before  # not mirrored, no version added
    assert read_document(admin, "secret", name) is None

    good = registry(home, auth_server, AUTH_STRING)
    status = add_mirror(good, f"secret/{name}", "prefect")
    assert status.state == "current"
    assert read_document(admin, "secret", name)["data"] == {"value": "mirror-me-0d4"}
    reg.close()
    good.close()


def test_re_push_refused_keeps_the_save_records_the_error_and_push_finishes(
    home: Path, auth_server: Server, admin: PrefectClient
) -> None:
    good = registry(home, auth_server, AUTH_STRING)
    name = unique("auth-repush")
    Secret(value="v1").save(name, registry=good, mirror_to_prefect=True)
    bad = registry(home, auth_server, None)
    with pytest.raises(PrefectError) as caught:
        Secret(value="v2-never-shown").save(name, overwrite=True, registry=bad)
    message = refused(caught, auth_server, f"secret/{name}")
    assert f"secret/{name} is saved in Blocks (version 2)" in message
    assert "v2-never-shown" not in message
    [status] = mirror_status(bad)
    assert status.state == "error" and auth_server.url in (status.last_error or "")
    assert read_document(admin, "secret", name)["data"] == {"value": "v1"}

    push_stale(good)
    assert read_document(admin, "secret", name)["data"] == {"value": "v2-never-shown"}
    assert mirror_status(good)[0].state == "current"
    bad.close()
    good.close()


def test_import_refused_for_the_credential_writes_nothing_and_a_rerun_imports(
    home: Path, auth_server: Server, admin: PrefectClient
) -> None:
    kind = block_type(admin, "secret")
    assert kind is not None
    name = unique("from-auth")
    admin.request("POST", "block_documents/", f"secret/{name}", json={
        "name": name, "data": {"value": "imported-behind-auth"},
        "block_schema_id": kind.schema_id, "block_type_id": kind.type_id})
    reg = registry(home, auth_server, WRONG)
    with PrefectClient(settings=reg.settings) as client, pytest.raises(PrefectError) as caught:
        import_blocks(client, reg, name=name)
    refused(caught, auth_server, "block documents")
    assert state(reg) == {"blocks": [], "pools": [], "mirrors": []}

    good = registry(home, auth_server, AUTH_STRING)
    with PrefectClient(settings=good.settings) as client:
        result = import_blocks(client, good, name=name)
        assert [i.outcome for i in result.items] == ["create"]
        again = import_blocks(client, good, name=name)
    assert {i.outcome for i in again.items} == {"unchanged"}
    assert Secret.load(name, registry=good).get() == "imported-behind-auth"
    reg.close()
    good.close()


def test_template_prefect_refuses_is_a_422_naming_the_pool_and_the_reason_then_fixed(
    home: Path, auth_server: Server, admin: PrefectClient
) -> None:
    reg = registry(home, auth_server, AUTH_STRING)
    name = unique("refused-template")
    # Blocks accepts an empty job_configuration; Prefect 3.8's server refuses it (422).
    template = {"job_configuration": {}, "variables": {
        "type": "object", "properties": {"env": {"type": "object"}}}}
    WorkPool(name=name, type="process", base_job_template=template).save(registry=reg)
    WorkPool.load(name, registry=reg).create_queue("hot", priority=2, registry=reg)
    before = state(reg)
    with PrefectClient(settings=reg.settings) as client, pytest.raises(PrefectError) as caught:
        publish(client, [WorkPool.load(name, registry=reg)], reg)
    message = str(caught.value)
    assert auth_server.url in message and f"work pool '{name}'" in message
    assert "HTTP 422" in message and "base_job_template" in message
    assert "job_configuration" in message  # Prefect's reason, not only its status
    assert state(reg) == before
    assert admin.request("GET", f"work_pools/{name}", "pool", missing_ok=True) is None

    pool = WorkPool.load(name, registry=reg)
    pool.base_job_template = default_base_job_template("process")
    pool.save(registry=reg)
    with PrefectClient(settings=reg.settings) as client:
        publish(client, [WorkPool.load(name, registry=reg)], reg)
    assert admin.request("GET", f"work_pools/{name}/queues/hot", "queue")["priority"] == 2
    reg.close()


def test_client_repr_and_settings_repr_hide_the_auth_string(auth_server: Server) -> None:
    settings = Settings(prefect_api_url=auth_server.url, prefect_api_auth_string=AUTH_STRING)
    with PrefectClient(settings=settings) as client:
        shown = repr(client) + repr(settings) + str(settings.model_dump())
    assert "auth-s3cr3t" not in shown and auth_server.url in shown
