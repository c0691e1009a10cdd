"""What the pool store calls after a save of a pool with ``publish_to_prefect=True``."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from blocks.errors import PrefectError, ValidationError
from blocks.integrations.prefect.client import PrefectClient
from blocks.integrations.prefect.publish import publish

if TYPE_CHECKING:
    from blocks.registry import Registry


# One publish at a time per process: Prefect shifts queue priorities on every change, so two
# concurrent publishes of one pool (Terraform creates queues in parallel) would fight.
_PUBLISHING = threading.Lock()


def client_for(registry: Registry) -> PrefectClient:
    """A client of the registry's Prefect server (its settings, else the environment)."""
    settings = registry.settings if registry.settings.prefect_api_url else None
    return PrefectClient(settings=settings)


def publish_saved_pool(registry: Registry, name: str) -> None:
    """Publish the pool ``name`` (just saved in Blocks) and its queues to Prefect.

    Raises:
        PrefectError: publishing failed; the message says that Blocks kept the save and how
            to retry.
    """
    from blocks.pools.models import WorkPool

    try:
        with _PUBLISHING, client_for(registry) as api:
            pool = WorkPool.load(name, registry=registry)
            publish(api, [pool], registry)
    except (PrefectError, ValidationError) as exc:
        raise PrefectError(
            f"work pool {name!r} is saved in Blocks, but publishing "
            f"it to Prefect failed: {exc}. Rerun 'blocks pools publish {name}'"
        ) from None
