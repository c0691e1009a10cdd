"""Where the UI's actions meet the audit trail.

Every UI action runs inside :func:`_acting` so the registry calls it makes are recorded as
done by the signed-in principal ``via="ui"``. The audit trail plugs in here (one function);
until it exists this only marks the request as a UI action.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.requests import Request

from blocks.server.security import Principal


@contextlib.contextmanager
def _acting(request: Request, principal: Principal, action: str, obj: str) -> Iterator[None]:
    """Run a UI action (``action`` on ``obj``, e.g. ``"rollback"``, ``"secret/app-db"``)
    as ``principal`` via the UI: the audit trail's hook."""
    request.state.ui_action = (action, obj)
    yield


def acting(request: Request, principal: Principal, action: str, obj: str
           ) -> contextlib.AbstractContextManager[None]:
    """The context every UI action runs in (see :func:`_acting`)."""
    return _acting(request, principal, action, obj)


def refused(request: Request, principal: Principal | None, action: str, obj: str,
            reason: str) -> None:
    """Record a refused UI action (403): the audit trail's hook for denials."""
    request.state.ui_refused = (action, obj, reason)


def version_actors(registry: object, block_id: str) -> dict[int, tuple[str, str]]:
    """``{version: (who, via)}`` of a block's versions, from the audit trail (the block
    page's history shows them; empty until the audit trail plugs in here)."""
    return {}
