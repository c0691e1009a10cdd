"""``blocks prefect deploy-rotation`` and ``deploy-gc``: a shipped flow deployed on a published
pool.

The deployment runs :mod:`blocks.integrations.prefect.flows.rotate_due` (or
:mod:`~blocks.integrations.prefect.flows.gc`, ``blocks gc``) on a cron schedule; its
job variables give the flow run the registry's location and master-key settings, and never a
credential: a local master key is named by its file, a database password comes from the
worker's libpq password or service file (``PGPASSFILE``/``PGSERVICEFILE``), and anything
that would carry one is refused before Prefect is called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blocks.errors import ConfigurationError
from blocks.settings import provider_settings_lines

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry

FLOW_NAME = "blocks-rotate-due"
DEPLOYMENT_NAME = "rotate-due"
ENTRYPOINT = "blocks/integrations/prefect/flows/rotate_due.py:rotate_due"
JOBS = {  # job: (flow name, deployment name, entrypoint, description)
    "rotate-due": (FLOW_NAME, DEPLOYMENT_NAME, ENTRYPOINT,
                   "Runs 'blocks rotate --due'; a failed rotation fails the flow run."),
    "gc": ("blocks-gc", "gc", "blocks/integrations/prefect/flows/gc.py:gc",
           "Runs 'blocks gc': shreds the deleted blocks whose recovery window has passed."),
}


DATABASE_CREDENTIAL_FIX = (
    "take the password out of the URL and let the worker's libpq read it from a password file "
    "or a service file: BLOCKS_DATABASE_URL=postgresql+psycopg://USER@HOST:5432/DB with "
    "--env PGPASSFILE=/path/on/the/worker/pgpass (a 0600 file of HOST:5432:DB:USER:PASSWORD "
    "lines), or BLOCKS_DATABASE_URL='postgresql+psycopg:///?service=NAME' with --env "
    "PGSERVICEFILE=/path/on/the/worker/pg_service.conf (or PGSERVICE=NAME)"
)
"""How the worker gets a database password without Prefect holding it."""

# Credentials no deployment may carry: Blocks' secret settings and the usual SDK variables.
_CREDENTIAL_VARIABLES = frozenset({
    "BLOCKS_MASTER_KEY", "BLOCKS_VAULT_TOKEN", "VAULT_TOKEN", "BLOCKS_VAULT_SECRET_ID",
    "BLOCKS_PREFECT_API_KEY", "PREFECT_API_KEY", "BLOCKS_PREFECT_API_AUTH_STRING",
    "PREFECT_API_AUTH_STRING", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
})


def url_password(url: str) -> bool:
    """Whether a URL carries a password (``user:password@`` or a ``password=`` parameter)."""
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        return "@" in url  # not parseable: assume the worst
    query = {k.lower() for k in parse_qs(parts.query, keep_blank_values=True)}
    return has_password or bool(query & {"password", "sslpassword"})


def check_no_credentials(env: dict[str, str]) -> None:
    """Refuse job variables that would put a credential into Prefect's deployment.

    Raises:
        ConfigurationError: naming the variable (never its value) and the fix.
    """
    for name, value in env.items():
        if name == "BLOCKS_MASTER_KEY":
            raise ConfigurationError(
                "BLOCKS_MASTER_KEY is set inline: deploying would store the master key in "
                "Prefect. Use BLOCKS_MASTER_KEY_FILE (a file the worker can read) or aws-kms / "
                "vault-transit"
            )
        if name.upper() in _CREDENTIAL_VARIABLES:
            raise ConfigurationError(
                f"{name} is a credential: deploying would store it in Prefect, whose job "
                "variables anyone who can read deployments can read. Give it to the worker "
                "from its own environment or a file instead"
            )
        if name == "BLOCKS_DATABASE_URL" and url_password(value):
            raise ConfigurationError(
                "BLOCKS_DATABASE_URL holds a password: deploying would store it in Prefect, "
                "whose job variables anyone who can read deployments can read; "
                + DATABASE_CREDENTIAL_FIX
            )
        if "://" in value and url_password(value):
            raise ConfigurationError(
                f"{name} is a URL with a password: deploying would store the password in "
                "Prefect; give the worker the password from a file (for PostgreSQL: "
                "PGPASSFILE or a service file) instead"
            )


def registry_env(registry: Registry) -> dict[str, str]:
    """The ``BLOCKS_*`` variables that open this registry in another process.

    They carry no credential: an inline master key or a database URL with a password is
    refused, not copied.

    Raises:
        ConfigurationError: the master key is given inline (``BLOCKS_MASTER_KEY``), or the
            database URL holds a password; the message names the fix (a key file or KMS/Vault;
            a libpq password or service file for the database).
    """
    settings = registry.settings
    if settings.master_key is not None:
        check_no_credentials({"BLOCKS_MASTER_KEY": ""})
    env = {"BLOCKS_DATABASE_URL": settings.resolved_database_url}
    for line in provider_settings_lines(settings):
        key, _, value = line.partition("=")
        env[key] = value
    check_no_credentials(env)
    return env


def deploy_rotation(
    client: PrefectClient, registry: Registry, *, pool: str, cron: str,
    queue: str | None = None, timezone: str = "UTC", env: dict[str, str] | None = None,
    job: str = "rotate-due", on_replace: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Create or update the rotation deployment (``job="gc"``: the ``blocks gc`` one) on
    ``pool``; the deployment as Prefect has it. One that exists in another pool or queue is
    deleted and created anew there, with a new id (:func:`_forget_if_moving`); ``on_replace``
    is then called with the deleted one (as Prefect had it).

    Raises:
        PrefectError: the pool is not on Prefect (publish it first) or the server refused
            (a deployment being moved may then be deleted already: run it again).
        ConfigurationError: as :func:`registry_env`, or ``env`` holds a credential
            (:func:`check_no_credentials`); nothing is sent to Prefect then.
    """
    job_env = {**registry_env(registry), **(env or {})}
    check_no_credentials(job_env)  # before anything reaches Prefect
    what = f"work pool {pool!r}"
    found = client.request("GET", f"work_pools/{pool}", what, missing_ok=True)
    if found is None:
        from blocks.errors import PrefectError

        raise PrefectError(f"Prefect server {client.api_url} has no {what}; publish it first: "
                           f"blocks pools publish {pool}")
    flow_name, deployment_name, entrypoint, description = JOBS[job]
    flow = client.request("POST", "flows/", f"flow {flow_name!r}", json={"name": flow_name})
    replaced = _forget_if_moving(client, f"{flow_name}/{deployment_name}", found, pool, queue)
    if replaced is not None and on_replace is not None:
        on_replace(replaced)
    source_root = Path(__file__).resolve().parents[3]
    body = {
        "name": deployment_name, "flow_id": flow["id"], "work_pool_name": pool,
        "work_queue_name": queue, "entrypoint": entrypoint,
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {
            "directory": str(source_root)}}],
        "job_variables": {"env": job_env},
        "schedules": [{"schedule": {"cron": cron, "timezone": timezone}, "active": True}],
        "parameter_openapi_schema": {"type": "object", "properties": {}},
        "description": description,
    }
    deployment = client.request("POST", "deployments/", f"deployment {deployment_name!r}",
                                json=body)
    return deployment  # type: ignore[no-any-return]


def _queue_id(client: PrefectClient, pool: dict[str, Any], name: str,
              queue: str | None) -> str | None:
    """The id of the queue a deployment on ``pool`` (its JSON) and ``queue`` lands in, or
    ``None`` when Prefect will create that queue with the deployment."""
    if queue is None:
        return pool.get("default_queue_id")
    found = client.request("GET", f"work_pools/{name}/queues/{queue}",
                           f"work queue '{name}/{queue}'", missing_ok=True)
    return None if found is None else found.get("id")


def _forget_if_moving(client: PrefectClient, name: str, pool: dict[str, Any], pool_name: str,
                      queue: str | None) -> dict[str, Any] | None:
    """Delete the deployment ``name`` (flow/deployment) when it exists in another queue than
    the one a deploy on ``pool`` (its JSON) and ``queue`` lands in (:func:`_queue_id`), so that
    the deploy creates it anew there instead of moving it; the deleted deployment, or ``None``.

    Moving a scheduled deployment races with Prefect's scheduler (3.8), which reads a
    deployment's row and then its schedules in separate statements: a deploy committed between
    the two gives runs of the NEW schedule in the OLD queue, holding the new schedule's
    idempotency keys, so the runs the new pool's workers should get are never made (up to the
    scheduler's 100 runs ahead: 100 days of a daily rotation). Seen on a loaded machine: of 30
    moves between two pools, 16 to 28 left runs in the old queue, most one to four, three about
    100; created anew, none of 30 did. A deployment created anew has no old row for the
    scheduler to read; runs it was making for the old one at that moment can only land in the
    old pool, as runs of a deleted deployment.
    """
    what = f"deployment {name!r}"
    existing = client.request("GET", f"deployments/name/{name}", what, missing_ok=True)
    if existing is None:
        return None
    queue_id = _queue_id(client, pool, pool_name, queue)
    if queue_id is not None and existing.get("work_queue_id") == queue_id:
        return None
    client.request("DELETE", f"deployments/{existing['id']}", what, missing_ok=True)
    return existing  # type: ignore[no-any-return]
