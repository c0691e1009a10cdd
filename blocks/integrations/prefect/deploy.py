"""``blocks prefect deploy-rotation``: the shipped rotation flow deployed on a published pool.

The deployment runs :mod:`blocks.integrations.prefect.flows.rotate_due` on a cron schedule; its
job variables give the flow run the registry's location and master-key settings (never a key:
a local master key is named by its file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from blocks.errors import ConfigurationError

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry

FLOW_NAME = "blocks-rotate-due"
DEPLOYMENT_NAME = "rotate-due"
ENTRYPOINT = "blocks/integrations/prefect/flows/rotate_due.py:rotate_due"


def registry_env(registry: Registry) -> dict[str, str]:
    """The ``BLOCKS_*`` variables that open this registry in another process (no secrets).

    Raises:
        ConfigurationError: the master key is given inline (``BLOCKS_MASTER_KEY``), which would
            put it into Prefect's deployment; use a key file or a KMS/Vault provider.
    """
    from blocks.cli.output import provider_settings_lines

    settings = registry.settings
    if settings.master_key is not None:
        raise ConfigurationError(
            "BLOCKS_MASTER_KEY is set inline: deploying would store the master key in Prefect. "
            "Use BLOCKS_MASTER_KEY_FILE (a file the worker can read) or aws-kms / vault-transit"
        )
    env = {"BLOCKS_DATABASE_URL": settings.resolved_database_url}
    for line in provider_settings_lines(settings):
        key, _, value = line.partition("=")
        env[key] = value
    return env


def deploy_rotation(
    client: PrefectClient, registry: Registry, *, pool: str, cron: str,
    queue: str | None = None, timezone: str = "UTC", env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create or update the rotation deployment on ``pool``; the deployment as Prefect has it.

    Raises:
        PrefectError: the pool is not on Prefect (publish it first) or the server refused.
        ConfigurationError: as :func:`registry_env`.
    """
    what = f"work pool {pool!r}"
    if client.request("GET", f"work_pools/{pool}", what, missing_ok=True) is None:
        from blocks.errors import PrefectError

        raise PrefectError(f"Prefect server {client.api_url} has no {what}; publish it first: "
                           f"blocks pools publish {pool}")
    flow = client.request("POST", "flows/", f"flow {FLOW_NAME!r}", json={"name": FLOW_NAME})
    source_root = Path(__file__).resolve().parents[3]
    body = {
        "name": DEPLOYMENT_NAME, "flow_id": flow["id"], "work_pool_name": pool,
        "work_queue_name": queue, "entrypoint": ENTRYPOINT,
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {
            "directory": str(source_root)}}],
        "job_variables": {"env": {**registry_env(registry), **(env or {})}},
        "schedules": [{"schedule": {"cron": cron, "timezone": timezone}, "active": True}],
        "parameter_openapi_schema": {"type": "object", "properties": {}},
        "description": "Runs 'blocks rotate --due'; a failed rotation fails the flow run.",
    }
    deployment = client.request("POST", "deployments/", f"deployment {DEPLOYMENT_NAME!r}",
                                json=body)
    return deployment  # type: ignore[no-any-return]
