"""Stands in for ``prefect.testing.utilities.prefect_test_harness`` in prefect-aws's suite.

Copied into the prepared suite as the top-level module ``blocks_suite_harness``. Prefect's
harness starts a throw-away Prefect server (its blocks live there); with Blocks, blocks live in
a Blocks registry, so this one opens an empty registry in a temporary folder and points Prefect
at the test run's shared Prefect server (``PREFECT_API_URL``, set by the runner).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from blocks import Registry


@contextmanager
def prefect_test_harness(server_startup_timeout: int | None = 30) -> Iterator[None]:
    """An empty Blocks registry (and the runner's Prefect server) for the session."""
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError("the runner sets PREFECT_API_URL to the test run's Prefect server")
    saved = os.environ.get("BLOCKS_HOME")
    with tempfile.TemporaryDirectory(prefix="blocks-prefect-aws-suite-") as home:
        os.environ["BLOCKS_HOME"] = home
        Registry.reset_default()
        try:
            yield
        finally:
            Registry.reset_default()
            if saved is None:
                os.environ.pop("BLOCKS_HOME", None)
            else:
                os.environ["BLOCKS_HOME"] = saved
