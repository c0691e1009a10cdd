"""Processes for tests that race several writers: each a process of its own with its own
connections, started by ``multiprocessing``'s fork server rather than as a new interpreter.

The fork server is one fresh interpreter per pytest process (not a fork of pytest's, so no
connection, thread or lock of the test is inherited) that imports Blocks and the test's module
once; each writer is a fork of it, so it starts in milliseconds instead of ~0.8 s of CPU
importing everything again (``spawn``).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext


def writer_context(*modules: str) -> BaseContext:
    """The ``forkserver`` context, preloading Blocks, SQLAlchemy and ``modules`` (the module
    holding the target function)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["blocks", "sqlalchemy", *modules])
    return context
