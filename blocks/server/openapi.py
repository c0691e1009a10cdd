"""The server's OpenAPI document, as served at ``/v1/openapi.json``.

``python -m blocks.server.openapi > docs/openapi.json`` regenerates the copy in ``docs/``;
``tests/server/test_openapi_doc.py`` fails when that copy is stale. Building the document
opens nothing: the registry behind the app is never used.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from blocks.registry import Registry
from blocks.settings import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document of :func:`blocks.server.app.create_app`."""
    from blocks.server.app import create_app

    with tempfile.TemporaryDirectory(prefix="blocks-openapi-") as home:
        registry = Registry(Settings(home=Path(home), database_url=None, key_provider="local"))
        try:
            return dict(create_app(registry).openapi())
        finally:
            registry.close()


def render() -> str:
    """The document as stable, reviewable JSON text (sorted keys, two-space indent)."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
