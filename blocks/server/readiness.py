"""Readiness of a ``blocks server``: its database and its key provider answer now.

``GET /v1/health/ready`` (no authentication, for load balancers and orchestrators) answers 200
when both answer, else 503 with the error envelope of ``blocks.wire``: ``StoreError`` (the
database is down, or holds no registry yet) or ``KeyProviderError`` (the master key cannot
wrap and unwrap). The anonymous body says which dependency is down and the fix; the details
(the database host, the provider's endpoint and its reason) go to the server's log only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from blocks.errors import BlocksError, KeyProviderError, RegistryNotFound, StoreError
from blocks.registry import Registry
from blocks.store import presence

log = logging.getLogger("blocks.server")


@dataclass(frozen=True)
class Readiness:
    """The answer of one readiness check: ``problem`` is ``None`` when ready."""

    checks: dict[str, str]
    problem: BlocksError | None = None

    @property
    def ready(self) -> bool:
        return self.problem is None


def readiness(registry: Registry) -> Readiness:
    """Query the database and round-trip the key provider (never raises)."""
    checks = {"database": "down", "key_provider": "unchecked"}
    try:
        if not presence.exists(registry.store):
            raise RegistryNotFound("no registry in the database")
    except RegistryNotFound:
        checks["database"] = "no registry"
        return Readiness(checks, StoreError(
            "not ready: the database holds no registry yet; run 'blocks server init' with "
            "the server's settings"))
    except Exception as exc:  # any failure means not ready: logged, never shown
        log.warning("readiness: the database does not answer: %s", _reason(exc))
        return Readiness(checks, StoreError(
            "not ready: the database does not answer; the server's log has the reason"))
    checks["database"] = "ok"
    try:
        registry.keyring.provider.check()
    except Exception as exc:
        checks["key_provider"] = "down"
        log.warning("readiness: the key provider does not answer: %s", _reason(exc))
        name = registry.settings.key_provider
        return Readiness(checks, KeyProviderError(
            name, "its configured endpoint",
            "does not answer (a wrap and unwrap failed), so the server is not ready; the "
            "server's log has the reason"))
    checks["key_provider"] = registry.keyring.provider.name
    return Readiness(checks)


def _reason(exc: Exception) -> str:
    # BlocksError messages name objects and endpoints, never secrets; other exceptions (a
    # driver's, an SDK's) could quote a URL with its password: only their type is logged.
    return str(exc) if isinstance(exc, BlocksError) else type(exc).__name__
