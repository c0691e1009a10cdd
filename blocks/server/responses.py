"""The error answers every operation of the API documents (the envelope of ``blocks.wire``).

``create_app`` passes :data:`ERROR_RESPONSES` to FastAPI for every route, so the OpenAPI
document lists each status a route can answer with and the body's shape; a client (or
schemathesis) never meets an undocumented status.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong: the ``BlocksError`` class, its message, its attributes."""

    type: str = Field(description="The BlocksError subclass, e.g. BlockNotFound")
    message: str = Field(description="The error's message: names objects and fixes, no values")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="The class's own attributes (e.g. ValidationError field paths)",
    )


class ErrorEnvelope(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The request cannot be done (a BlocksError without a more specific status)"),
    401: _error("Unauthorized: the token is missing, unknown, expired or revoked"),
    403: _error("Forbidden: the token's policy lacks the capability on the object"),
    404: _error("No such block, version, pool, queue or endpoint"),
    409: _error("Conflict: expected_version does not match, the name is taken, the block is "
                "referenced, or a stored record does not authenticate"),
    422: _error("The request or a document is invalid (the message names the field)"),
    429: _error("Too many failed authentications from this address: wait Retry-After "
                "seconds"),
    500: _error("Unexpected: a fixed message and the request id, never a traceback"),
    503: _error("The database or the key provider does not answer"),
}
