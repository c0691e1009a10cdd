"""Defaults of ``blocks server run``, importable without the ``server`` extra (the CLI builds
its ``--help`` from them before FastAPI or uvicorn are needed)."""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
GRACE_SECONDS = 30.0
