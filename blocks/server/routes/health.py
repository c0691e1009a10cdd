"""``/v1/health`` (the process answers) and ``/v1/health/ready`` (its database and key
provider answer; 503 with the error envelope otherwise, see ``blocks.server.readiness``).
No authentication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from blocks import wire
from blocks.registry import Registry
from blocks.server.deps import current_registry
from blocks.server.readiness import readiness

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("", summary="The server process answers")
async def live() -> dict[str, Any]:
    # ``async``: no I/O, so no hop through the thread pool (and it answers even when every
    # worker thread waits on a stalled database).
    return {"status": "ok"}


@router.get(
    "/ready", summary="The database and the key provider answer",
    responses={503: {"description": "The database or the key provider does not answer "
                                    "(the error envelope names which)"}},
)
def ready(registry: Annotated[Registry, Depends(current_registry)]) -> Any:
    answer = readiness(registry)
    if answer.problem is not None:
        status, body = wire.error_response(answer.problem)
        body["error"]["details"] = {"checks": answer.checks}
        return JSONResponse(body, status_code=status)
    return {"status": "ready", **answer.checks}
