"""The app: health, deny by default, the error envelope, and no traceback on a 500."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import APIRouter

from blocks import Registry, Secret
from blocks.errors import Unauthorized
from blocks.remote.registry import RemoteRegistry
from blocks.server.app import create_app
from blocks.server.security import ADMIN, StaticPrincipal, static_authenticator
from tests.core import models  # noqa: F401 - registers the test-* types on the server
from tests.server_fixtures import remote_settings, serve, serve_app


def test_health_answers_without_a_token(served_registry: Registry) -> None:
    with serve(served_registry) as url:
        assert httpx.get(f"{url}/v1/health").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/v1/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["key_provider"] == "local"


def test_ready_is_503_naming_the_place_when_there_is_no_registry(blocks_home) -> None:
    empty = Registry()
    with serve(empty) as url:
        ready = httpx.get(f"{url}/v1/health/ready")
    assert ready.status_code == 503
    assert ready.json()["error"]["type"] == "StoreError"
    assert "holds no registry yet" in ready.json()["error"]["message"]
    assert "blocks server init" in ready.json()["error"]["message"]
    empty.close()


def test_an_app_without_an_authenticator_refuses_every_block_request(
        served_registry: Registry) -> None:
    with serve(served_registry) as url:
        remote = RemoteRegistry(remote_settings(url))
        with pytest.raises(Unauthorized, match="needs an API token"):
            remote.list()
        with pytest.raises(Unauthorized):
            Secret(value="v").save("x", registry=remote)
        remote.close()
    assert served_registry.list() == []


def test_an_unexpected_exception_is_a_500_with_a_request_id_and_no_traceback(
        served_registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(served_registry, authenticator=static_authenticator(ADMIN))
    boom = APIRouter()

    @boom.get("/v1/boom")
    def explode() -> None:
        raise RuntimeError("value-that-must-not-leak")

    app.include_router(boom)
    with caplog.at_level(logging.DEBUG, logger="blocks"), serve_app(app, allow_500=True) as url:
        answer = httpx.get(f"{url}/v1/boom", headers={"x-request-id": "req-42"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "req-42"
    error = answer.json()["error"]
    assert error["details"] == {"request_id": "req-42"}
    assert "req-42" in error["message"]
    assert "value-that-must-not-leak" not in answer.text
    assert "Traceback" not in answer.text and "explode" not in answer.text
    assert "value-that-must-not-leak" not in caplog.text
    assert "RuntimeError" in caplog.text and "req-42" in caplog.text


def test_a_malformed_request_is_a_422_naming_the_field(server_url: str) -> None:
    answer = httpx.post(f"{server_url}/v1/blocks/secret/x", json={"overwrite": "sure"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["type"] == "InvalidArgument"
    assert "body.document" in error["message"] and "body.overwrite" in error["message"]


def test_an_unknown_route_is_a_404_envelope(server_url: str) -> None:
    answer = httpx.get(f"{server_url}/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "no such endpoint: GET /v1/nothing-here"


def test_a_principal_without_the_capability_gets_403_naming_it(
        served_registry: Registry) -> None:
    Secret(value="v").save("admin", registry=served_registry)
    reader = StaticPrincipal("ci", {"blocks": {"secret/app-*": {"read"}}})
    with serve(served_registry, static_authenticator(reader)) as url:
        remote = RemoteRegistry(remote_settings(url))
        from blocks.errors import Forbidden

        with pytest.raises(Forbidden, match="ci lacks the 'read' capability on block "
                                            "secret/admin"):
            remote.load("secret/admin")
        assert remote.list() == []
        remote.close()


def test_save_and_load_through_the_server(http_registry: RemoteRegistry,
                                          served_registry: Registry) -> None:
    info = Secret(value="s3cr3t").save("api", registry=http_registry)
    loaded = http_registry.load("secret/api")
    assert loaded.get() == "s3cr3t"
    assert (loaded.block_id, loaded.block_name, loaded.block_version) == (
        info.block_id, "api", 1)
    assert served_registry.load("secret/api").get() == "s3cr3t"


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/v1/blocks/secret/x/stages", {"expected_current": 1, "pending": 0}, 422),
    ("POST", "/v1/blocks/secret/x/stages", {"expected_current": -1}, 422),
    ("DELETE", "/v1/blocks/secret/x/versions/0", None, 422),
    ("GET", "/v1/block-ids/not-a-uuid", None, 404),
    ("GET", "/v1/blocks/Bad Slug/x", None, 422),
    ("GET", "/v1/blocks/secret/x?version=0", None, 422),
    ("GET", "/v1/blocks/secret/x?stage=latest", None, 422),
    ("GET", "/v1/blocks?slug=no-such-type", None, 422),
    ("POST", "/v1/blocks/test-service/x", {"document": '{"url": "u", "creds": {"$ref": 5}}'},
     422),
    ("POST", "/v1/blocks/secret/x", {"document": "[1, 2"}, 422),
    ("POST", "/v1/blocks/secret/x", {"document": '{"value": "v"}', "expected_version": -1}, 422),
])
def test_bad_input_is_a_4xx_envelope_never_a_500(
        server_url: str, method: str, path: str, body: object, status: int) -> None:
    answer = httpx.request(method, server_url + path, json=body)
    assert answer.status_code == status, answer.text
    assert set(answer.json()["error"]) == {"type", "message", "details"}
