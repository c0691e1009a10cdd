"""What the Terraform resources call when the provider has ``prefect_api_url`` set.

Pools declared in Terraform are saved with ``publish_to_prefect``, so every write publishes the
pool and its queues; a refresh reports Prefect-side drift by returning Prefect's values for the
settings that differ there, so ``terraform plan`` shows them and ``apply`` restores Blocks'.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from blocks.integrations.prefect.hooks import client_for
from blocks.integrations.prefect.publish import pool_body, queue_body

if TYPE_CHECKING:
    from blocks.pools import WorkPool, WorkQueue
    from blocks.registry import Registry

_STATE_NAMES = {"is_paused": "paused"}


def publishes(registry: Registry) -> bool:
    """Whether the registry's settings name a Prefect server."""
    return bool(registry.settings.prefect_api_url)


def check_publishable(registry: Registry, name: str, template: dict[str, Any]) -> None:
    """Refuse, at plan, a base job template that publishing would refuse (a placeholder that
    would put a secret into Prefect).

    Raises:
        ValidationError: as :func:`blocks.integrations.prefect.templates.to_prefect_template`.
    """
    from blocks.integrations.prefect.templates import to_prefect_template

    to_prefect_template(template, registry, ref=f"work-pool/{name}")


def pool_drift(registry: Registry, pool: WorkPool) -> dict[str, Any]:
    """Prefect's values of the pool settings that differ from Blocks (state attribute names)."""
    with client_for(registry) as api:
        theirs = api.request("GET", f"work_pools/{pool.name}", f"work pool {pool.name!r}",
                             missing_ok=True)
    if theirs is None:
        return {}
    desired = pool_body(pool, registry)
    drift = _drift(theirs, desired, ("description", "is_paused", "concurrency_limit"))
    if _canonical(theirs.get("base_job_template")) != _canonical(desired["base_job_template"]):
        drift["base_job_template"] = theirs.get("base_job_template") or {}
    return drift


def queue_drift(registry: Registry, queue: WorkQueue) -> dict[str, Any]:
    """Prefect's values of the queue settings that differ from Blocks."""
    what = f"work queue '{queue.pool}/{queue.name}'"
    with client_for(registry) as api:
        theirs = api.request("GET", f"work_pools/{queue.pool}/queues/{queue.name}", what,
                             missing_ok=True)
    if theirs is None:
        return {}
    return _drift(theirs, queue_body(queue),
                  ("description", "priority", "concurrency_limit", "is_paused"))


def delete_pool(registry: Registry, name: str) -> None:
    """Delete the pool on Prefect (nothing when it is not there)."""
    with client_for(registry) as api:
        api.request("DELETE", f"work_pools/{name}", f"work pool {name!r}", missing_ok=True)


def delete_queue(registry: Registry, pool: str, name: str) -> None:
    """Delete the queue on Prefect (nothing when it is not there)."""
    with client_for(registry) as api:
        api.request("DELETE", f"work_pools/{pool}/queues/{name}",
                    f"work queue '{pool}/{name}'", missing_ok=True)


def _drift(theirs: dict[str, Any], ours: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        a, b = theirs.get(name), ours.get(name)
        if name == "description":
            a, b = a or "", b or ""
        if a != b:
            out[_STATE_NAMES.get(name, name)] = a
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value or {}, sort_keys=True)
