"""``/v1/pools/...`` over HTTP: capabilities on the pool and on the blocks a render resolves,
errors as the same classes and messages, and no secret in a body that should not have one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from blocks import AwsCredentials, Registry, S3Bucket, Secret
from blocks.codec import MASK
from blocks.pools import WorkPool, default_base_job_template
from blocks.server.security import ADMIN, Principal, StaticPrincipal, static_authenticator
from tests.server_fixtures import serve

SECRET = "pool-api-secret-9f3c"
AWS_SECRET = "wJalr-pool-api-7e1d"


@pytest.fixture
def served(sqlite_registry: Registry) -> Registry:
    """A registry with a pool ``etl`` whose env names ``secret/db``, and a few blocks."""
    Secret(value=SECRET).save("db", registry=sqlite_registry)
    Secret(value="other-secret-never-shown").save("admin", registry=sqlite_registry)
    creds = AwsCredentials(aws_access_key_id="AKIAPOOLAPI", aws_secret_access_key=AWS_SECRET,
                           region_name="eu-west-1")
    creds.save("prod", registry=sqlite_registry)
    S3Bucket(bucket_name="data-lake", credentials=creds).save("lake", registry=sqlite_registry)
    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = {"DB": "{{ blocks.secret.db }}"}
    WorkPool(name="etl", type="process", base_job_template=template).save(
        registry=sqlite_registry)
    WorkPool(name="other", type="docker").save(registry=sqlite_registry)
    return sqlite_registry


@contextlib.contextmanager
def serving(registry: Registry, principal: Principal) -> Iterator[httpx.Client]:
    """A real server over ``registry`` whose every request is ``principal``'s."""
    with serve(registry, static_authenticator(principal)) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        yield http


MakeClient = Callable[[Mapping[str, Mapping[str, set[str]]]], httpx.Client]


@pytest.fixture
def client(served: Registry) -> Iterator[MakeClient]:
    """``client(rules)``: an HTTP client of a server whose requests have those grants."""
    with contextlib.ExitStack() as stack:
        def make(rules: Mapping[str, Mapping[str, set[str]]]) -> httpx.Client:
            return stack.enter_context(serving(served, StaticPrincipal("tester", rules)))

        yield make


@pytest.fixture
def admin(served: Registry) -> Iterator[httpx.Client]:
    with serving(served, ADMIN) as http:
        yield http


def error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["type"] == error_type
    return body


def render(c: httpx.Client, pool: str = "etl", **body: Any) -> Any:
    return c.post(f"/v1/pools/{pool}/render", json=body)


# -- capabilities ---------------------------------------------------------------------------------


def test_read_metadata_lists_loads_and_renders_masked_but_changes_nothing(
    served: Registry, client: MakeClient
) -> None:
    c = client({"pools": {"etl": {"read-metadata"}},
                        "blocks": {"secret/*": {"read-metadata"}}})
    assert [p["name"] for p in c.get("/v1/pools").json()] == ["etl"]  # "other" is filtered out
    assert c.get("/v1/pools/etl").json()["version"] == 1
    assert [p["version"] for p in c.get("/v1/pools/etl/history").json()] == [1]
    assert [q["name"] for q in c.get("/v1/pools/etl/queues").json()] == ["default"]
    masked = render(c)
    assert masked.status_code == 200, masked.text
    assert masked.json()["configuration"]["env"] == {"DB": MASK}
    assert masked.json()["secrets_masked"] is True
    assert SECRET not in masked.text
    document = c.get("/v1/pools/etl").json()["document"]
    refused = {
        "write": [
            c.put("/v1/pools/etl", json={"type": "process", "document": document,
                                         "expected_version": 1}),
            c.post("/v1/pools/etl/queues", json={"name": "critical"}),
            c.patch("/v1/pools/etl/queues/default", json={"changes": {"is_paused": True}}),
            c.post("/v1/pools/etl/rename", json={"new_name": "etl-2"}),
        ],
        "delete": [c.delete("/v1/pools/etl"), c.delete("/v1/pools/etl/queues/default")],
        "read": [render(c, show_secrets=True)],
    }
    for capability, responses in refused.items():
        for response in responses:
            body = error(response, 403, "Forbidden")
            assert f"'{capability}' capability on work pool etl" in body["message"]
    assert WorkPool.load("etl", registry=served).version == 1
    assert not WorkPool.load("etl", registry=served).queue().is_paused


def test_a_pool_outside_the_policy_is_refused_even_for_metadata(
    served: Registry, client: MakeClient
) -> None:
    c = client({"pools": {"etl": {"admin"}}})
    for response in (c.get("/v1/pools/other"), c.get("/v1/pools/other/queues"),
                     c.get("/v1/pools/other/history"), render(c, "other")):
        assert "'read-metadata' capability on work pool other" in error(
            response, 403, "Forbidden")["message"]
    # the answer is the same whether or not the pool exists
    error(c.get("/v1/pools/ghost"), 403, "Forbidden")


def test_shown_secrets_need_read_on_the_pool_and_every_block(
    served: Registry, client: MakeClient
) -> None:
    pool_only = client({"pools": {"etl": {"read"}}})
    body = error(render(pool_only, show_secrets=True), 403, "Forbidden")
    assert body["message"] == "tester lacks the 'read' capability on block secret/db"
    metadata_only = client({"pools": {"etl": {"read"}},
                                    "blocks": {"secret/db": {"read-metadata"}}})
    error(render(metadata_only, show_secrets=True), 403, "Forbidden")
    reader = client({"pools": {"etl": {"read"}}, "blocks": {"secret/db": {"read"}}})
    shown = render(reader, show_secrets=True)
    assert shown.status_code == 200, shown.text
    assert shown.json()["configuration"]["env"] == {"DB": SECRET}
    assert shown.json()["secrets_masked"] is False


def test_job_variables_cannot_reach_a_block_outside_the_policy(
    served: Registry, client: MakeClient
) -> None:
    c = client({"pools": {"etl": {"read"}}, "blocks": {"secret/db": {"read"}}})
    for show in (False, True):
        response = render(c, values={"env": {"LOOT": "{{ blocks.secret.admin }}"}},
                          show_secrets=show)
        assert "on block secret/admin" in error(response, 403, "Forbidden")["message"]
        assert "other-secret-never-shown" not in response.text


def test_a_nested_block_needs_the_capability_too(
    served: Registry, client: MakeClient
) -> None:
    values = {"env": {"LAKE": "{{ blocks.s3-bucket.lake }}"}}
    c = client({"pools": {"etl": {"read"}},
                        "blocks": {"secret/db": {"read"}, "s3-bucket/lake": {"read"}}})
    response = render(c, values=values, show_secrets=True)
    assert "on block aws-credentials/prod" in error(response, 403, "Forbidden")["message"]
    assert AWS_SECRET not in response.text
    c = client({"pools": {"etl": {"read"}},
                        "blocks": {"secret/db": {"read"}, "s3-bucket/lake": {"read"},
                                   "aws-credentials/prod": {"read"}}})
    shown = render(c, values=values, show_secrets=True)
    assert AWS_SECRET in shown.text
    masked = render(c, values=values)
    assert AWS_SECRET not in masked.text and "AKIAPOOLAPI" in masked.text


def test_writing_a_template_that_names_a_block_needs_metadata_on_it(
    served: Registry, client: MakeClient
) -> None:
    c = client({"pools": {"new": {"write"}}})
    template = default_base_job_template("process")
    template["job_configuration"]["env"] = {"X": "{{ blocks.secret.admin }}"}
    response = c.put("/v1/pools/new", json={"type": "process",
                                            "document": {"base_job_template": template}})
    assert "'read-metadata' capability on block secret/admin" in error(
        response, 403, "Forbidden")["message"]
    assert WorkPool.list_pools(registry=served)[0].name == "etl"
    assert [p.name for p in WorkPool.list_pools(registry=served)] == ["etl", "other"]


# -- errors ---------------------------------------------------------------------------------------


def test_missing_pool_and_queue_are_404_with_the_local_messages(admin: httpx.Client) -> None:
    body = error(admin.get("/v1/pools/ghost"), 404, "WorkPoolNotFound")
    assert body["message"] == "no work pool 'ghost'; see 'blocks pools ls'"
    body = error(admin.get("/v1/pools/etl", params={"version": 7}), 404, "WorkPoolNotFound")
    assert body["message"] == "no work pool 'etl' version 7; see 'blocks pools ls'"
    body = error(admin.get("/v1/pools/etl/queues/nope"), 404, "WorkQueueNotFound")
    assert "has no queue 'nope'" in body["message"]
    error(render(admin, queue="nope"), 404, "WorkQueueNotFound")


def test_stale_write_and_taken_names_are_409(admin: httpx.Client) -> None:
    document = admin.get("/v1/pools/etl").json()["document"]
    save = {"type": "process", "document": document, "expected_version": 1}
    assert admin.put("/v1/pools/etl", json=save).json()["version"] == 2
    body = error(admin.put("/v1/pools/etl", json=save), 409, "ConflictError")
    assert "someone else wrote first" in body["message"]
    error(admin.post("/v1/pools/etl/rename", json={"new_name": "other"}), 409, "ConflictError")
    body = error(admin.delete("/v1/pools/etl/queues/default"), 409, "ConflictError")
    assert "cannot be deleted" in body["message"]


def test_bad_template_is_422_with_its_json_path(admin: httpx.Client) -> None:
    template = default_base_job_template("process")
    template["job_configuration"]["command"] = "{{ comand }}"
    response = admin.put("/v1/pools/bad", json={"type": "process",
                                                "document": {"base_job_template": template}})
    body = error(response, 422, "ValidationError")
    assert body["details"]["errors"][0][0] == "job_configuration.command"
    body = error(admin.put("/v1/pools/bad", json={"type": "lambda", "document": {}}),
                 422, "ValidationError")
    assert body["details"]["errors"][0][0] == "type"
    error(admin.put("/v1/pools/Bad_Name", json={"type": "process", "document": {}}),
          422, "InvalidName")
    for key in ("name", "type", "version", "colour"):
        body = error(admin.put("/v1/pools/etl", json={"type": "process",
                                                      "document": {key: "x"}}),
                     422, "ValidationError")
        assert body["details"]["errors"][0][0] == f"document.{key}"
    body = error(admin.post("/v1/pools/etl/queues", json={"name": "q", "priority": 0}),
                 422, "ValidationError")
    assert body["details"]["errors"][0][0] == "priority"
    body = error(render(admin, values={"nope": 1}), 422, "ValidationError")
    assert body["details"]["errors"][0][0] == "job_variables.nope"


def test_unknown_queue_field_is_refused_naming_it(admin: httpx.Client) -> None:
    response = admin.patch("/v1/pools/etl/queues/default", json={"changes": {"name": "x"}})
    assert "['name'] cannot be changed" in error(response, 422, "InvalidArgument")["message"]
    response = admin.patch("/v1/pools/etl/queues/default",
                           json={"changes": {"concurrency_limit": -1}})
    assert error(response, 422, "ValidationError")["details"]["errors"][0][0] == (
        "concurrency_limit")


def test_bad_numbers_and_loose_types_are_4xx_and_store_validated_values(
    admin: httpx.Client,
) -> None:
    huge = 2**40
    for response in (
        admin.get("/v1/pools/etl", params={"version": huge}),
        admin.get("/v1/pools/etl", params={"version": 0}),
        render(admin, version=0),
        admin.put("/v1/pools/etl", json={"type": "process", "document": {},
                                         "expected_version": huge}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["type"] in {"InvalidArgument", "ValidationError"}
    response = admin.patch("/v1/pools/etl/queues/default", json={"changes": {"priority": huge}})
    assert error(response, 422, "ValidationError")["details"]["errors"][0][0] == "priority"
    response = admin.post("/v1/pools/etl/queues", json={"name": "q", "concurrency_limit": huge})
    assert error(response, 422, "ValidationError")["details"]["errors"][0][0] == (
        "concurrency_limit")
    # lax JSON ("2", "true") is stored as the validated value, so the queue still authenticates
    response = admin.patch("/v1/pools/etl/queues/default",
                           json={"changes": {"priority": "2", "is_paused": "true"}})
    assert response.status_code == 200, response.text
    queue = admin.get("/v1/pools/etl/queues/default").json()
    assert (queue["priority"], queue["is_paused"], queue["version"]) == (2, True, 2)
