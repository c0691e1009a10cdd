"""``blocks server``: the registry as a versioned JSON API (``/v1/...``) over HTTP.

The server is the only process that holds the database URL and the key provider; clients
reach it through :class:`blocks.remote.registry.RemoteRegistry` (``BLOCKS_API_URL``).
Needs the ``server`` extra (FastAPI on uvicorn). An upper layer, like the CLI: nothing
below imports it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: ``blocks.server.defaults`` (the CLI's --help) must import without FastAPI.
    if name == "create_app":
        from blocks.server.app import create_app

        return create_app
    raise AttributeError(f"module 'blocks.server' has no attribute {name!r}")
