"""``blocks server``: the registry as a versioned JSON API (``/v1/...``) over HTTP.

The server is the only process that holds the database URL and the key provider; clients
reach it through :class:`blocks.remote.registry.RemoteRegistry` (``BLOCKS_API_URL``).
Needs the ``server`` extra (FastAPI on uvicorn). An upper layer, like the CLI: nothing
below imports it.
"""

from __future__ import annotations

from blocks.server.app import create_app

__all__ = ["create_app"]
