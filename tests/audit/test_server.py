"""``blocks audit`` through a real blocks server: ``GET /v1/audit`` and the other routes,
admin only (issue 21)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from blocks import Registry, Secret
from blocks.access import policies
from blocks.access.store import AccessStore
from blocks.errors import Forbidden
from blocks.remote.registry import RemoteRegistry
from blocks.server.app import create_app
from blocks.server.auth import TokenAuthenticator
from tests.cli_process import run_cli
from tests.server_fixtures import remote_settings, serve_app

PW = "served-warehouse-pw-77a1"


@pytest.fixture
def tokens(served_registry: Registry) -> dict[str, str]:
    access = AccessStore(served_registry.store, served_registry.sealer)
    access.put_policy("admins", policies.parse("admins", {"admin": True}))
    access.put_policy("readers", policies.parse("readers", {"blocks": {"*/*": ["read"]}}))
    admin, _ = access.create_token("ops", ["admins"])
    reader, _ = access.create_token("etl", ["readers"])
    return {"admin": admin, "reader": reader}


@pytest.fixture
def url(served_registry: Registry, tokens: dict[str, str]) -> Iterator[str]:
    served_registry.audit.reads = True
    Secret(value=PW).save("warehouse", registry=served_registry)
    with serve_app(create_app(served_registry,
                              authenticator=TokenAuthenticator(served_registry))) as base:
        yield base


def client(url: str, token: str) -> RemoteRegistry:
    return RemoteRegistry(remote_settings(url, token))


def test_the_trail_through_the_server(url: str, tokens: dict[str, str]) -> None:
    reader, admin = client(url, tokens["reader"]), client(url, tokens["admin"])
    try:
        assert reader.load("secret/warehouse").get() == PW  # type: ignore[attr-defined]
        found = list(admin.audit.ls(ref="secret/warehouse", action="read"))
        assert len(found) == 1 and found[0].outcome == "allowed" and found[0].version == 1
        assert [r.count for r in admin.audit.who_read("secret/warehouse", "30d")] == [1]
        digest = admin.audit.hash(b"some-token-id")
        assert digest.startswith("hmac-sha256:")
        admin.audit.record("login", kind="auth", obj="ops", detail={"method": "token"})
        assert next(admin.audit.ls(action="login")).obj == "ops"
        report = admin.audit.verify()
        # write, read, login, and the server's record of each other request (ls, who-read,
        # hash) before verify's own
        assert report.ok and report.records == 7
        oldest = list(admin.audit.ls(oldest_first=True, limit=2))
        assert [e.action for e in oldest] == ["write", "read"]
        served = [e for e in admin.audit.ls(oldest_first=True) if e.actor.via == "server"]
        assert [e.action for e in served[:4]] == ["read", "audit-ls", "audit-who-read",
                                                  "audit-hash"]
        assert admin.audit.prune("2000-01-01") == 0
        assert PW not in json.dumps([e.to_json() for e in admin.audit.ls()])
    finally:
        reader.close()
        admin.close()


def test_paging_through_the_server(url: str, tokens: dict[str, str],
                                   served_registry: Registry) -> None:
    for _ in range(7):
        served_registry.audit.record("read", obj="secret/warehouse")
    from blocks.remote import audit

    admin = client(url, tokens["admin"])
    old, audit.PAGE = audit.PAGE, 3
    try:
        assert len(list(admin.audit.ls(action="read"))) == 7
        assert len(list(admin.audit.ls(action="read", limit=5))) == 5
        seqs = [e.seq for e in admin.audit.ls(oldest_first=True)]
        # the write, the 7 reads, the server's record of each earlier page's request (3 + 2),
        # and of this listing's own pages as they go
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) >= 8 + 3 + 2
    finally:
        audit.PAGE = old
        admin.close()


@pytest.mark.parametrize("call", [
    lambda r: list(r.audit.ls()), lambda r: r.audit.who_read("secret/warehouse"),
    lambda r: r.audit.verify(), lambda r: r.audit.prune("2000-01-01"),
    lambda r: r.audit.hash(b"x"), lambda r: r.audit.record("x", obj="y"),
])
def test_only_admins_read_the_trail(url: str, tokens: dict[str, str], call: Any) -> None:
    reader = client(url, tokens["reader"])
    try:
        with pytest.raises(Forbidden):
            call(reader)
    finally:
        reader.close()
    answer = httpx.get(f"{url}/v1/audit", headers={"Authorization": f"Bearer {tokens['reader']}"})
    assert answer.status_code == 403


def test_the_cli_through_the_server(url: str, tokens: dict[str, str]) -> None:
    reader = client(url, tokens["reader"])
    reader.load("secret/warehouse")
    reader.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env.update(BLOCKS_API_URL=url, BLOCKS_API_TOKEN=tokens["admin"])
    out = run_cli(["audit", "who-read", "secret/warehouse", "--since", "30d", "--json"],
                  env=env, check=True).stdout
    assert [r["count"] for r in json.loads(out)] == [1]
    export = run_cli(["audit", "export", "--jsonl"], env=env, check=True).stdout
    assert len(export.splitlines()) >= 2 and PW not in export
