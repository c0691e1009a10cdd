"""Issue 17, point 6: nothing Blocks hands to Prefect carries a credential.

``blocks prefect deploy-rotation`` refuses a database URL with a password (as it refuses an
inline master key) before anything reaches Prefect, and names the fix: a libpq password or
service file on the worker. That path then works end to end on PostgreSQL with a real worker,
and every byte sent to Prefect, and everything Prefect holds afterwards (deployment, job
variables, published pools, flows, blocks, variables), is free of the password.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.errors import ConfigurationError
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.deploy import deploy_rotation
from tests.integrations.test_worker_run import run_deployment_once
from tests.servers import Server

pytestmark = pytest.mark.postgres

POOL = "cred-rotation"


class SentToPrefect:
    """Every request any httpx client of this process sends (a spy: the real server answers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        real = httpx.Client.send

        def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
            self.requests.append((request.method, str(request.url), request.read()))
            return real(client, request, **kwargs)

        monkeypatch.setattr(httpx.Client, "send", send)

    def writes(self) -> list[str]:
        return [f"{m} {u}" for m, u, _ in self.requests
                if m != "GET" and not u.endswith("/filter")]

    def blob(self) -> bytes:
        return b"\n".join(u.encode() + b" " + body for _, u, body in self.requests)


def _everything_prefect_holds(client: PrefectClient) -> str:
    parts = []
    for path in ("deployments/filter", "work_pools/filter", "flows/filter", "variables/filter",
                 "flow_runs/filter"):
        parts.append(client.request("POST", path, path, json={}))
    parts.append(client.request("POST", "block_documents/filter", "blocks",
                                json={"include_secrets": True}))
    for pool in client.request("POST", "work_pools/filter", "pools", json={}):
        parts.append(client.request("POST", f"work_pools/{pool['name']}/queues/filter",
                                    "queues", json={}))
    return json.dumps(parts)


def test_deploy_rotation_never_hands_the_database_password_to_prefect(
    blocks_home: Path, pg_url: str, prefect_server: Server, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    password = f"pw-{secrets.token_hex(8)}"  # trust auth here: the server ignores it
    url = make_url(pg_url)
    with_password = url.set(password=password).render_as_string(hide_password=False)
    without = url.render_as_string(hide_password=False)
    assert password in with_password and "@" in without and ":" + password not in without
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    monkeypatch.setenv("BLOCKS_DATABASE_URL", with_password)

    registry = Registry(Settings(home=blocks_home, database_url=with_password))
    Secret(value="before-rotation").save("rotated", registry=registry)
    assert main(["rotation", "set", "secret/rotated", "--rotator", "generated",
                 "--every", "1s"]) == 0
    assert main(["pools", "create", POOL, "--type", "process"]) == 0
    assert main(["pools", "publish", POOL]) == 0
    capsys.readouterr()
    sent = SentToPrefect(monkeypatch)

    # Refused, naming the fix, before any request: by the CLI and by the API.
    assert main(["prefect", "deploy-rotation", "--pool", POOL, "--cron", "0 0 1 1 *"]) == 1
    err = capsys.readouterr().err
    assert "BLOCKS_DATABASE_URL holds a password" in err and "PGPASSFILE" in err, err
    assert "PGSERVICEFILE" in err and password not in err
    with PrefectClient(prefect_server.url) as client, pytest.raises(
        ConfigurationError, match="libpq"
    ):
        deploy_rotation(client, registry, pool=POOL, cron="0 0 1 1 *")
    for extra in (f"PGPASSWORD={password}", f"REPORTS_DB=postgresql://u:{password}@h/db"):
        assert main(["prefect", "deploy-rotation", "--pool", POOL, "--cron", "0 0 1 1 *",
                     "--env", extra]) == 1
        assert password not in capsys.readouterr().err
    assert sent.requests == []
    registry.close()

    # The fix: no password in the URL; the worker's libpq reads it from a password file.
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{url.host}:{url.port or 5432}:{url.database}:{url.username}:"
                      f"{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("BLOCKS_DATABASE_URL", without)
    time.sleep(1)  # the rotation is due
    assert main(["prefect", "deploy-rotation", "--pool", POOL, "--cron", "0 0 1 1 *",
                 "--env", f"PGPASSFILE={pgpass}", "--json"]) == 0
    deployed = json.loads(capsys.readouterr().out)
    assert any(w.endswith("/deployments/") for w in sent.writes()), sent.writes()
    with PrefectClient(prefect_server.url) as client:
        dep = client.request("GET", f"deployments/{deployed['id']}", "deployment")
        job_env = dep["job_variables"]["env"]
        assert job_env["PGPASSFILE"] == str(pgpass)
        assert job_env["BLOCKS_DATABASE_URL"] == without
        state, logs = run_deployment_once(client, prefect_server, tmp_path, dep["id"], POOL)
        assert state["type"] == "COMPLETED", (state, logs)
        held = _everything_prefect_holds(client)
    reopened = Registry(Settings(home=blocks_home, database_url=without))
    assert Secret.load("rotated", registry=reopened).get() != "before-rotation"
    reopened.close()
    assert password.encode() not in sent.blob()
    assert password not in held and password not in logs
