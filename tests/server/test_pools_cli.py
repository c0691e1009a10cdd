"""``blocks pools ...`` in a real subprocess against a ``blocks server``: the client has only
BLOCKS_API_URL and BLOCKS_API_TOKEN (no database, no master key), and the server's answers,
refusals and errors come through the CLI as they do locally."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from blocks import Registry, Secret
from blocks.pools import WorkPool
from blocks.server.security import ADMIN, StaticPrincipal, static_authenticator
from tests.cli_process import run_cli
from tests.server_fixtures import serve

SECRET = "pools-cli-remote-secret-4d2a"
PLACEHOLDER = "{{ blocks.secret.db-password }}"


def blocks_cli(home: Path, url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env.update(BLOCKS_HOME=str(home), BLOCKS_API_URL=url,
               BLOCKS_API_TOKEN="tok-not-checked-by-the-static-authenticator")
    return run_cli(argv, env=env, timeout=120)


def test_pool_commands_work_through_a_server_with_only_the_api_settings(
    served_registry: Registry, tmp_path: Path
) -> None:
    Secret(value=SECRET).save("db-password", registry=served_registry)
    client_home = tmp_path / "client-home"
    with serve(served_registry, static_authenticator(ADMIN)) as url:
        def ok(*argv: str) -> str:
            result = blocks_cli(client_home, url, *argv)
            assert result.returncode == 0, (argv, result.stderr)
            assert SECRET not in result.stdout + result.stderr or "--show-secrets" in argv
            return result.stdout

        created = json.loads(ok("pools", "create", "etl", "--type", "kubernetes", "--json"))
        assert (created["name"], created["version"]) == ("etl", 1)
        ok("pools", "queues", "create", "etl", "critical", "--priority", "1")
        ok("pools", "pause", "etl")
        pools = json.loads(ok("pools", "ls", "--json"))
        assert [(p["name"], p["version"], p["is_paused"]) for p in pools] == [("etl", 2, True)]
        queues = json.loads(ok("pools", "queues", "ls", "etl", "--json"))
        assert [(q["name"], q["priority"]) for q in queues] == [("critical", 1), ("default", 2)]

        variables = "env=" + json.dumps({"DB": PLACEHOLDER})
        masked = json.loads(ok("pools", "render", "etl", "--queue", "critical",
                               "--var", variables, "--json"))
        container = masked["configuration"]["job_manifest"]["spec"]["template"]["spec"][
            "containers"][0]
        assert {"name": "DB", "value": "********"} in container["env"]
        assert masked["secrets_masked"] is True
        shown = ok("pools", "render", "etl", "--var", variables, "--show-secrets")
        assert SECRET in shown

        stale = blocks_cli(client_home, url, "pools", "update", "etl", "--description", "x",
                           "--expected-version", "1")
        assert stale.returncode == 1
        assert "work pool 'etl' is at version 2, not the expected 1" in stale.stderr
        missing = blocks_cli(client_home, url, "pools", "inspect", "ghost")
        assert missing.returncode == 1 and "no work pool 'ghost'" in missing.stderr
        ok("pools", "mv", "etl", "etl-2")
        ok("pools", "queues", "rm", "etl-2", "critical")
        ok("pools", "rm", "etl-2")

    assert WorkPool.list_pools(registry=served_registry) == []
    # the client never made a registry of its own
    assert not any(client_home.rglob("*.db")) and not any(client_home.rglob("*.key"))


def test_a_metadata_token_renders_masked_and_is_refused_the_rest(
    served_registry: Registry, tmp_path: Path
) -> None:
    Secret(value=SECRET).save("db-password", registry=served_registry)
    WorkPool(name="etl", type="process").save(registry=served_registry)
    viewer = StaticPrincipal("viewer", {"pools": {"etl": {"read-metadata"}},
                                        "blocks": {"secret/*": {"read-metadata"}}})
    variables = "env=" + json.dumps({"DB": PLACEHOLDER})
    with serve(served_registry, static_authenticator(viewer)) as url:
        listed = blocks_cli(tmp_path, url, "pools", "ls", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [p["name"] for p in json.loads(listed.stdout)] == ["etl"]
        # a metadata token renders the masked job: the server resolves, the secret stays there
        masked = blocks_cli(tmp_path, url, "pools", "render", "etl", "--var", variables,
                            "--json")
        assert masked.returncode == 0, masked.stderr
        rendered = json.loads(masked.stdout)
        assert rendered["configuration"]["env"] == {"DB": "********"}
        assert rendered["secrets_masked"] is True and SECRET not in masked.stdout
        shown = blocks_cli(tmp_path, url, "pools", "render", "etl", "--var", variables,
                           "--show-secrets")
        paused = blocks_cli(tmp_path, url, "pools", "pause", "etl")
    assert shown.returncode == 1 and SECRET not in shown.stdout + shown.stderr
    assert "viewer lacks the 'read' capability on work pool etl" in shown.stderr
    assert paused.returncode == 1
    assert "viewer lacks the 'write' capability on work pool etl" in paused.stderr
    assert "Traceback" not in paused.stderr + shown.stderr
    assert WorkPool.load("etl", registry=served_registry).is_paused is False
