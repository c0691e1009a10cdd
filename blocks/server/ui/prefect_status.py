"""A pool page's publish status to Prefect: is the bridge configured, does the pool publish on
save, and (asked for) what publishing would change there.

Prefect is optional: without ``BLOCKS_PREFECT_API_URL`` (or ``PREFECT_API_URL``) the page says
so and offers nothing that would contact it. The check is the bridge's own plan (two reads per
pool, no write); publishing is the bridge's ``publish``, as ``blocks pools publish`` runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blocks import hooks
from blocks.errors import BlocksError, ConfigurationError
from blocks.settings import Settings

if TYPE_CHECKING:
    from blocks.registry import Registry


@dataclass(frozen=True)
class PublishStatus:
    """What the pool page shows about Prefect.

    Attributes:
        url: the Prefect API the bridge would use (``None``: not configured).
        on_save: the pool is saved with ``publish_to_prefect`` (every save publishes it).
        checked: a comparison was asked for.
        in_sync: Prefect holds what Blocks holds (``None``: not checked or the check failed).
        plan: the comparison as text (``terraform plan``-like), or why it failed.
    """

    url: str | None
    on_save: bool
    checked: bool = False
    in_sync: bool | None = None
    plan: str = ""


def configured_url(registry: Registry) -> str | None:
    """The Prefect API URL of the registry's settings, else of the environment."""
    return registry.settings.prefect_api_url or Settings().prefect_api_url


def status(registry: Registry, name: str, document: Mapping[str, Any], *,
           check: bool) -> PublishStatus:
    """The publish status of pool ``name`` (``document``: its stored settings); ``check``:
    compare with Prefect now (reads only)."""
    url = configured_url(registry)
    on_save = bool(document.get("publish_to_prefect"))
    if url is None or not check:
        return PublishStatus(url, on_save)
    return _checked(registry, url, on_save, name)


def _checked(registry: Registry, url: str, on_save: bool, name: str) -> PublishStatus:
    try:
        from blocks.integrations.prefect.hooks import client_for
        from blocks.integrations.prefect.publish import plan
        from blocks.pools.models import WorkPool

        with client_for(registry) as api:
            found = plan(api, [WorkPool.load(name, registry=registry)], registry)
    except (BlocksError, ImportError) as exc:
        return PublishStatus(url, on_save, True, None, f"the check failed: {exc}")
    return PublishStatus(url, on_save, True, not found.writes, found.render(drift=True))


def publish_now(registry: Registry, name: str) -> None:
    """Publish pool ``name`` and its queues (the bridge's hook; ``PrefectError`` says why
    not and that Blocks kept the pool)."""
    if configured_url(registry) is None:
        raise ConfigurationError("no Prefect server is configured: set "
                                 "BLOCKS_PREFECT_API_URL where the blocks server runs")
    hooks.get(hooks.POOLS_PUBLISH)(registry, name)


def publish_after_save(registry: Registry, name: str, document: Mapping[str, Any]) -> str:
    """Publish a pool just saved with ``publish_to_prefect`` (as ``WorkPool.save`` does);
    returns a sentence for the page (empty when the pool does not publish)."""
    if not document.get("publish_to_prefect"):
        return ""
    try:
        publish_now(registry, name)
    except BlocksError as exc:
        return f" Publishing to Prefect failed: {exc}"
    return " Published to Prefect."
