"""The journey's Prefect side: a deployment of examples/pipeline/flow.py on the published pool,
and flow runs by a real ``prefect worker start --pool POOL --run-once``."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from demo_servers import binary, prefect_env

FLOW = "seed-pipeline"


class Deployment:
    """One deployment (entrypoint ``flow.py:seed_pipeline``, run from ``pipeline_dir``).

    ``env`` is the worker's environment, which its flow runs inherit: the journey gives it
    BLOCKS_API_URL and a read token, and no other ``BLOCKS_*`` setting."""

    def __init__(self, api_url: str, env: dict[str, str], journey: Any,
                 pipeline_dir: Path) -> None:
        self.api_url, self.journey, self.pipeline_dir = api_url, journey, pipeline_dir
        self.env = prefect_env(env, journey.dir / "prefect" / "worker-home")
        self.env["PREFECT_API_URL"] = api_url
        self.id, self.pool = "", ""

    def _client(self) -> Any:
        from blocks.integrations.prefect import PrefectClient

        return PrefectClient(self.api_url)

    def create(self, pool: str) -> str:
        self.pool = pool
        with self._client() as client:
            flow_id = client.request("POST", "flows/", "flow", json={"name": FLOW})["id"]
            dep = client.request("POST", "deployments/", "deployment", json={
                "name": "seed", "flow_id": flow_id, "work_pool_name": pool,
                "work_queue_name": "default", "entrypoint": "flow.py:seed_pipeline",
                "pull_steps": [{"prefect.deployments.steps.set_working_directory": {
                    "directory": str(self.pipeline_dir)}}],
                "parameters": {"bucket": "lake", "database": "warehouse"},
                "parameter_openapi_schema": {"type": "object", "properties": {
                    "bucket": {"type": "string"}, "database": {"type": "string"},
                    "run_label": {"type": "string"}, "result_path": {"type": "string"}}},
            })
        self.id = str(dep["id"])
        return (f"deployment {FLOW}/seed ({self.id[:8]}) on pool {pool}, queue default; "
                "tasks retry 3 times (1, 2, 4 s)")

    def run_once(self, label: str) -> dict[str, Any]:
        """Create a flow run, let one worker run pick it up; its result (checked COMPLETED)."""
        result = self.journey.dir / "prefect" / f"{label}.json"
        with self._client() as client:
            run = client.request("POST", f"deployments/{self.id}/create_flow_run", "flow run",
                                 json={"parameters": {"run_label": label,
                                                      "result_path": str(result)}})
        started = time.monotonic()
        log = self.journey.dir / "logs" / f"worker-{label}.log"
        with log.open("w") as out:
            subprocess.run([binary("prefect"), "worker", "start", "--pool", self.pool,
                            "--run-once"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=600, check=False)
        with self._client() as client:
            state = client.request("GET", f"flow_runs/{run['id']}", "flow run")["state"]
            tasks = client.request("POST", "task_runs/filter", "task runs", json={
                "flow_runs": {"id": {"any_": [run["id"]]}}})
        if state["type"] != "COMPLETED":
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise RuntimeError(f"flow run {label} ended {state['type']}: "
                               f"{state.get('message')}\n{tail}")
        done: dict[str, Any] = json.loads(result.read_text())
        done["seconds"] = time.monotonic() - started
        done["tasks"] = sorted(f"{t['name']}:{t['state']['type']}" for t in tasks)
        done["log"] = log.name
        return done

    @staticmethod
    def describe(done: dict[str, Any]) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in done["blocks_environment"].items())
        return (f"COMPLETED in {done['seconds']:.0f} s: tasks {', '.join(done['tasks'])}\n"
                f"{done['rows']} rows written as database role {done['database_role']}, "
                f"report {done['report_key']} in the lake (log: logs/{done['log']})\n"
                f"the flow run's BLOCKS_* environment: {shown}")
