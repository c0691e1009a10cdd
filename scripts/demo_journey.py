"""The main journey (run by scripts/demo.sh): Terraform -> a real Prefect flow loading blocks
through a ``blocks server`` with a read token -> rotation of the database password through the
server -> the flow again -> key rotation -> an empty plan.

Usage: python scripts/demo_journey.py --dir DIR [--keep]

DIR is an empty directory (demo.sh makes it): ``home/`` (the registry, BLOCKS_HOME),
``terraform/`` (the workspace, a copy of examples/demo/terraform), ``prefect/`` (the Prefect
server's and the worker's PREFECT_HOME) and ``logs/``. The ``blocks server`` is the only
process of the flow runs' side with the registry: the worker and its flow runs get
``BLOCKS_API_URL`` and a token whose policy reads exactly the pipeline's blocks. Every step
checks its result and the run stops at the first failure; the servers it started are stopped
in any case. Secrets and tokens are never printed: the last step checks the output, the logs
and the Terraform state for every secret value the registry holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_servers import Server, postgres_answers, start_blocks, start_moto, start_prefect
from demo_steps import Journey, secret_values
from demo_warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = ROOT / "examples" / "pipeline"
WORKSPACE = ROOT / "examples" / "demo" / "terraform"
POSTGRES_ADMIN_URL = os.environ.get("BLOCKS_DEMO_POSTGRES_ADMIN_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")
STEPS = 12
PIPELINE_BLOCKS = ["s3-bucket/lake", "aws-credentials/lake-writer", "secret/lake-secret-key",
                   "database-credentials/warehouse"]
"""What the seed pipeline loads: the bucket, the credentials it nests, the secret those
reference, and the warehouse login (loading a block needs ``read`` on each it references)."""


def child_env(home: Path) -> dict[str, str]:
    """The environment of every process the journey runs: this registry, nobody else's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BLOCKS_", "PREFECT_", "TF_", "AWS_", "VAULT_"))}
    env.update(BLOCKS_HOME=str(home), TF_IN_AUTOMATION="1", TF_INPUT="0",
               CHECKPOINT_DISABLE="1",
               TF_CLI_CONFIG_FILE=str(home / "terraform" / "terraform.rc"))
    return env


def api_env(env: dict[str, str], url: str, token: str) -> dict[str, str]:
    """``env`` with no ``BLOCKS_*`` setting but the server's URL and ``token``."""
    out = {k: v for k, v in env.items() if not k.startswith("BLOCKS_")}
    out.update(BLOCKS_API_URL=url, BLOCKS_API_TOKEN=token)
    return out


def token_in(output: str) -> str:
    """The token a ``blocks server init`` / ``blocks tokens create`` printed (its own line)."""
    for line in output.splitlines():
        word = line.strip().rsplit(" ", 1)[-1]
        if word.startswith("blk_"):
            return word
    raise RuntimeError("no token in the output of the command (its output is not shown: "
                       "it holds a token)")


def read_token(j: Journey, env: dict[str, str]) -> str:
    """A policy reading exactly PIPELINE_BLOCKS and a one-day token of it (made where the
    server's database and master key are, as ``blocks tokens`` requires)."""
    policy = j.dir / "seed-pipeline-policy.json"
    policy.write_text(json.dumps({"blocks": {ref: ["read"] for ref in PIPELINE_BLOCKS}},
                                 indent=2) + "\n")
    j.cli(env, "policies", "put", "seed-pipeline", "--file", str(policy), show=True)
    return token_in(j.cli_token(env, "tokens", "create", "seed-pipeline-runs",
                                "--policy", "seed-pipeline", "--ttl", "1d"))


def version_through_server(url: str, token: str, ref: str) -> str:
    """What the flow runs' token sees of ``ref`` now, through the server."""
    from blocks import Settings
    from blocks.registry_protocol import open_registry

    registry = open_registry(Settings(api_url=url, api_token=token))
    try:
        version = registry.load(ref).block_version
    finally:
        registry.close()
    return f"through the server, the flow runs' token now loads version {version} of {ref}"


def refused_outside_policy(url: str, token: str) -> str:
    """What the flow runs' token gets for a block outside its policy (a 403, checked)."""
    from blocks import Secret, Settings
    from blocks.errors import Forbidden
    from blocks.registry_protocol import open_registry

    registry = open_registry(Settings(api_url=url, api_token=token))
    try:
        Secret.load("api-token", registry=registry)
    except Forbidden as exc:
        return f"the same token reading secret/api-token: Forbidden: {exc}"
    finally:
        registry.close()
    raise AssertionError("the flow runs' token read secret/api-token, outside its policy")


def run(j: Journey, env: dict[str, str], servers: list[Server],
        cleanups: list[Any]) -> None:
    from blocks import DatabaseCredentials, Registry, S3Bucket, Settings

    home, work = j.dir / "home", j.dir / "terraform"
    with j.step("initialise the registry (SQLite + local master key), the server's first "
                "admin token and the Terraform mirror"):
        j.cli(env, "init", show=True)
        admin_token = token_in(j.cli_token(env, "server", "init"))
        j.note("blocks server init: the first admin token (kept by the journey, not shown)")
        j.cli(env, "terraform", "install")
        j.note(f"registry in {home}; provider mirror and terraform.rc in {home / 'terraform'}")

    with j.step("start blocks server, moto (S3) and a Prefect server on 127.0.0.1, look for "
                "PostgreSQL", progress="starting the servers"):
        blocks_server = start_blocks({**env, "BLOCKS_AUDIT_READS": "1"}, j.dir)
        servers.append(blocks_server)
        j.note(f"blocks server on {blocks_server.url} (the only process with the registry's "
               "database and master key)")
        admin = api_env(env, blocks_server.url, admin_token)
        moto = start_moto(env, j.dir)
        servers.append(moto)
        j.note(f"moto on {moto.url}")
        prefect = start_prefect(env, j.dir)
        servers.append(prefect)
        j.note(f"Prefect {j.version('prefect')} on {prefect.url} "
               f"(PREFECT_HOME {j.dir / 'prefect' / 'server-home'})")
        why_not = postgres_answers(POSTGRES_ADMIN_URL)
        warehouse = Warehouse(POSTGRES_ADMIN_URL if why_not is None else None, j.dir)
        cleanups.append(warehouse.drop)
        j.note(warehouse.describe(why_not))

    with j.step("terraform apply: the blocks and a process work pool, published to Prefect",
                progress="running terraform"):
        shutil.copytree(WORKSPACE, work)
        (work / "terraform.tfvars.json").write_text(json.dumps(
            {"s3_endpoint_url": moto.url, **warehouse.tfvars()}, indent=2) + "\n")
        env["TF_VAR_prefect_api_url"] = prefect.url
        j.terraform(env, "init", "-input=false")
        j.terraform(env, "apply", "-auto-approve", "-input=false")
        j.note("blocks ls:")
        j.cli(env, "ls", show=True)
        from blocks.integrations.prefect import PrefectClient

        with PrefectClient(prefect.url) as client:
            pool = client.request("POST", "work_pools/filter", "work pools", json={})
            published = [p["name"] for p in pool]
        assert "demo-process" in published, published
        j.note(f"Prefect's work pools: {', '.join(sorted(published))}")

    registry = Registry(Settings(home=home))
    with j.step("set up the warehouse and seed the lake"):
        for line in warehouse.create(registry):
            j.note(line)
        if warehouse.postgres:
            j.cli(env, "rotate", "database-credentials/warehouse", "--now", show=True)
            j.note("first rotation: the role's password is now the block's (set through "
                   "the admin login, tested by signing in)")
        lake = S3Bucket.load("lake", registry=registry)
        lake.credentials.get_s3_client().create_bucket(Bucket=lake.bucket_name)
        lake.write_path("raw/orders.csv", (PIPELINE / "orders.csv").read_bytes())
        j.note(f"wrote raw/orders.csv to s3://{lake.bucket_name}/{lake.bucket_folder} "
               "through the s3-bucket/lake block")

    from demo_prefect import Deployment

    with j.step("deploy the seed pipeline (examples/pipeline/flow.py) on the pool; its flow "
                "runs get a read token for its blocks only"):
        token = read_token(j, env)
        j.note(f"blocks tokens create seed-pipeline-runs --policy seed-pipeline --ttl 1d: "
               f"read on {', '.join(PIPELINE_BLOCKS)} (token not shown)")
        j.note(refused_outside_policy(blocks_server.url, token))
        runs_env = api_env(env, blocks_server.url, token)
        deployment = Deployment(prefect.url, runs_env, j, PIPELINE)
        j.note(deployment.create("demo-process"))
        j.note("the worker and its flow runs get BLOCKS_API_URL and that token only: no "
               "database URL, master key or key provider setting")

    with j.step("flow run 1: prefect worker start --pool demo-process --run-once",
                progress="running the flow (worker, then the flow run process)"):
        first = deployment.run_once("run-1")
        j.note(deployment.describe(first))
        assert sorted(first["blocks_environment"]) == ["BLOCKS_API_TOKEN", "BLOCKS_API_URL"], \
            first["blocks_environment"]

    with j.step("blocks rotate: a new database password, set on the database itself"
                if warehouse.postgres else "blocks rotate: a new generated API token"):
        before = warehouse.password(registry)
        rotate_env = admin  # rotation runs on the server: only it holds the key
        if warehouse.postgres:
            j.cli(rotate_env, "rotate", "database-credentials/warehouse", "--now", show=True)
            for line in warehouse.check_rotated(registry, before):
                j.note(line)
        else:
            j.cli(rotate_env, "rotate", "secret/api-token", "--now", show=True)
            j.note("no PostgreSQL: rotated the generated secret/api-token (Terraform's "
                   "rotation policy) instead of a database password")
        j.cli(env, "history", "database-credentials/warehouse" if warehouse.postgres
              else "secret/api-token", show=True)
        if warehouse.postgres:
            j.note(version_through_server(blocks_server.url, token,
                                          "database-credentials/warehouse"))

    with j.step("flow run 2: the same deployment, no redeploy, loads the new credential",
                progress="running the flow"):
        second = deployment.run_once("run-2")
        j.note(deployment.describe(second))
        rows = warehouse.rows(registry)
        j.note(f"the warehouse holds {rows} rows of both runs (read through the block)")
        j.note("who read the warehouse password, as the blocks server's audit trail has it:")
        j.cli(admin, "audit", "who-read", "database-credentials/warehouse", "--since", "1d",
              show=True)

    with j.step("the same pipeline in plain Python, no Prefect (examples/pipeline/pipeline.py), "
                "with the same token"):
        out = j.command(runs_env, "pipeline", [sys.executable, str(PIPELINE / "pipeline.py"),
                                               "--run-label", "plain-python"])
        done = json.loads(out.strip().splitlines()[-1])
        j.note(f"{done['rows']} rows written as {done['database_role']}, "
               f"report {done['report_key']}")

    with j.step("blocks keys rotate; every block still verifies and loads"):
        j.cli(env, "keys", "rotate", show=True)
        j.cli(env, "verify", show=True)
        refs = [f"{b.type_slug}/{b.name}" for b in registry.list()]
        for ref in refs:
            registry.load(ref)
        assert isinstance(registry.load("database-credentials/warehouse"), DatabaseCredentials)
        j.note(f"loaded all {len(refs)} blocks after the key rotation")

    with j.step("terraform plan -detailed-exitcode: no changes after all that",
                progress="running terraform plan"):
        code = j.terraform(env, "plan", "-detailed-exitcode", "-input=false", check=False)
        assert code == 0, f"terraform plan exited {code}: see {j.dir / 'logs'}"
        j.note("No changes: rotation, key rotation and the pipeline left Terraform's "
               "configuration true")

    with j.step("no secret value or token in the output, the logs or the Terraform state"):
        secrets = secret_values(registry)
        checked = j.scan_for(secrets | {admin_token, token},
                             [*(j.dir / "logs").iterdir(), *work.glob("terraform.tfstate*")])
        j.note(f"checked {len(secrets)} secret values and the 2 tokens against {checked} "
               "files (the blocks server's log among them)")
    registry.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    demo_dir = args.dir.resolve()
    (demo_dir / "logs").mkdir(parents=True, exist_ok=True)
    j = Journey(demo_dir, STEPS)
    env = child_env(demo_dir / "home")
    os.environ.update({k: v for k, v in env.items() if k.startswith(("BLOCKS_", "TF_"))})
    servers: list[Server] = []
    cleanups: list[Any] = []

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    started = time.monotonic()
    code = 0
    j.say(f"== the main journey in {demo_dir} ("
          f"{'kept' if args.keep else 'removed at the end'}; logs in {demo_dir / 'logs'})")
    try:
        run(j, env, servers, cleanups)
    except KeyboardInterrupt:
        j.fail("interrupted")
        code = 130
    except Exception as exc:
        j.fail(f"{type(exc).__name__}: {exc}")
        code = 1
    finally:
        for cleanup in cleanups:
            try:
                cleanup()
            except Exception as exc:
                j.say(f"cleanup failed: {type(exc).__name__}: {exc}")
                code = code or 1
        for server in reversed(servers):
            server.stop()
        if servers:
            j.say(f"stopped {', '.join(s.name for s in servers)}")
    j.summary(time.monotonic() - started, ok=code == 0, keep=args.keep)
    return code


if __name__ == "__main__":
    sys.exit(main())
