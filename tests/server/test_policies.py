"""``/v1/tokens`` and ``/v1/policies`` through a real ``blocks server``: admin only, the token
in the creation answer only, strict policy validation, 404 and 409 where due."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blocks import Registry
from blocks.access.store import AccessStore
from tests.cli_process import run_cli
from tests.server_fixtures import serve


@pytest.fixture
def admin(served_registry: Registry) -> str:
    token, _ = AccessStore(served_registry.store, served_registry.sealer).initialize()
    return token


@pytest.fixture
def api(served_registry: Registry, admin: str) -> Iterator[httpx.Client]:
    with serve(served_registry) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin}"}) as http:
        yield http


def _base(api: httpx.Client) -> str:
    return str(api.base_url).rstrip("/")


def _error(answer: httpx.Response) -> dict[str, Any]:
    return dict(answer.json()["error"])


def test_an_admin_creates_lists_and_revokes_tokens(api: httpx.Client) -> None:
    assert api.put("/v1/policies/app-read",
                   json={"blocks": {"secret/app-*": ["read"]}}).status_code == 201
    created = api.post("/v1/tokens", json={"name": "worker", "policies": ["app-read"],
                                           "ttl": "30d", "owner": "etl"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token.startswith("blk_") and created.json()["expires_at"] is not None
    listed = api.get("/v1/tokens")
    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()} == {"admin", "worker"}
    assert token not in listed.text and "token" not in listed.json()[0]
    worker = httpx.get(f"{_base(api)}/v1/blocks",
                       headers={"Authorization": f"Bearer {token}"})
    assert worker.status_code == 200 and worker.json() == []
    revoked = api.delete("/v1/tokens/worker")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = httpx.get(f"{_base(api)}/v1/blocks", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    missing = api.delete("/v1/tokens/nobody")
    assert missing.status_code == 404 and _error(missing)["type"] == "TokenNotFound"


def test_token_creation_errors_name_the_problem(api: httpx.Client) -> None:
    answer = api.post("/v1/tokens", json={"name": "w", "policies": ["nope"]})
    assert answer.status_code == 404 and "no access policy 'nope'" in _error(answer)["message"]
    answer = api.post("/v1/tokens", json={"name": "w", "policies": ["admin"], "ttl": "1y"})
    assert answer.status_code == 422 and "--ttl" in _error(answer)["message"]
    answer = api.post("/v1/tokens", json={"name": "Bad Name", "policies": ["admin"]})
    assert answer.status_code == 422 and "invalid token name" in _error(answer)["message"]
    answer = api.post("/v1/tokens", json={"name": "w", "policies": []})
    assert answer.status_code == 422 and "policies" in _error(answer)["message"]
    answer = api.post("/v1/tokens", json={"name": "admin", "policies": ["admin"]})
    assert answer.status_code == 409


def test_policies_put_get_list_and_delete(api: httpx.Client) -> None:
    document = {"blocks": {"secret/app-*": ["read"]}, "pools": {"etl": ["read-metadata"]}}
    assert api.put("/v1/policies/app", json=document).status_code == 201
    assert api.put("/v1/policies/app", json=document).status_code == 200  # replaced
    got = api.get("/v1/policies/app")
    assert got.status_code == 200 and got.json() == {"name": "app", "document": document}
    assert [p["name"] for p in api.get("/v1/policies").json()] == ["admin", "app"]
    api.post("/v1/tokens", json={"name": "w", "policies": ["app"]})
    in_use = api.delete("/v1/policies/app")
    assert in_use.status_code == 409 and "used by token(s) w" in _error(in_use)["message"]
    api.delete("/v1/tokens/w")
    assert api.delete("/v1/policies/app").status_code == 204
    gone = api.get("/v1/policies/app")
    assert gone.status_code == 404 and _error(gone)["type"] == "PolicyNotFound"


def test_a_bad_policy_is_422_naming_each_json_path(api: httpx.Client) -> None:
    answer = api.put("/v1/policies/app", json={"blocks": {"secret/app-*": ["reed"]},
                                               "extra": 1})
    assert answer.status_code == 422
    error = _error(answer)
    assert error["type"] == "ValidationError"
    paths = [path for path, _ in error["details"]["errors"]]
    assert paths == ["$.extra", '$.blocks["secret/app-*"][0]']
    assert "use one of read, read-metadata" in error["message"]
    assert api.put("/v1/policies/app", content=b"[1]",
                   headers={"Content-Type": "application/json"}).status_code == 422


def test_every_admin_endpoint_needs_the_admin_capability(
    api: httpx.Client, served_registry: Registry
) -> None:
    api.put("/v1/policies/everything", json={"blocks": {"*/*": ["admin"]},
                                             "pools": {"*": ["admin"]}})
    token = api.post("/v1/tokens", json={"name": "almost", "policies": ["everything"]}
                     ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    calls = [("GET", "/v1/tokens", None), ("POST", "/v1/tokens",
                                           {"name": "x", "policies": ["everything"]}),
             ("DELETE", "/v1/tokens/admin", None), ("GET", "/v1/policies", None),
             ("GET", "/v1/policies/admin", None),
             ("PUT", "/v1/policies/admin", {"admin": False}),
             ("DELETE", "/v1/policies/everything", None)]
    for method, path, body in calls:
        answer = httpx.request(method, f"{_base(api)}{path}", json=body,
                               headers=headers)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "'admin' capability on administration" in _error(answer)["message"]
    for method, path, _ in calls:
        assert httpx.request(method, f"{_base(api)}{path}").status_code == 401
    assert api.get("/v1/policies/admin").json()["document"]["admin"] is True


def test_the_cli_manages_tokens_through_the_server_with_an_admin_token(
    served_registry: Registry, admin: str, tmp_path: Path
) -> None:
    import json
    import os
    import subprocess

    def blocks(token: str, *argv: str, stdin: str | None = None
               ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOCKS_", "VAULT_",
                                                                         "AWS_"))}
        env.update(HOME=str(tmp_path), BLOCKS_HOME=str(tmp_path / "b"), BLOCKS_API_URL=url,
                   BLOCKS_API_TOKEN=token)
        return run_cli(argv, env=env, input=stdin, timeout=120)

    with serve(served_registry) as url:
        done = blocks(admin, "policies", "put", "etl", "--file", "-",
                      stdin='{"blocks": {"secret/etl-*": ["read"]}}')
        assert done.returncode == 0, done.stderr
        done = blocks(admin, "tokens", "create", "etl-runs", "--policy", "etl", "--ttl", "2h")
        assert done.returncode == 0, done.stderr
        worker = done.stdout.strip()
        assert worker.startswith("blk_") and "only time" in done.stderr
        listed = json.loads(blocks(admin, "tokens", "ls", "--json").stdout)
        assert {t["name"]: t["state"] for t in listed} == {"admin": "active",
                                                           "etl-runs": "active"}
        assert worker not in json.dumps(listed)
        assert json.loads(blocks(admin, "policies", "get", "etl").stdout) == {
            "blocks": {"secret/etl-*": ["read"]}}
        refused = blocks(worker, "tokens", "ls")
        assert refused.returncode == 1
        assert "'admin' capability on administration" in refused.stderr
        assert blocks(admin, "tokens", "revoke", "etl-runs", "--yes").returncode == 0
        assert blocks(worker, "tokens", "ls").returncode == 1
        assert blocks(admin, "policies", "rm", "etl", "--yes").returncode == 0
        init = blocks(admin, "server", "init")
        assert init.returncode == 1 and "BLOCKS_API_URL" in init.stderr
    assert not (tmp_path / "b").exists()
