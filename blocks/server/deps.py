"""FastAPI dependencies shared by the routes: the app's registry."""

from __future__ import annotations

from fastapi import Request

from blocks.registry import Registry


async def current_registry(request: Request) -> Registry:
    """The registry the app serves (the only process that holds its database and key).
    ``async``: no I/O, so no hop through FastAPI's thread pool."""
    registry: Registry = request.app.state.registry
    return registry
