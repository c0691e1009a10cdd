"""Is there a registry at the configured place? Looking creates nothing.

The one rule behind every refusal to *read* from a registry that is not there (the CLI's
read-only commands, ``Registry.load``/``list``/``history``, the Terraform provider): a mistyped
``BLOCKS_HOME`` or ``BLOCKS_DATABASE_URL`` must be an error, never a new empty registry with a
new master key.
"""

from __future__ import annotations

import os

from blocks.store.engine import display_url, is_sqlite, sqlite_path
from blocks.store.sql import SqlStore


def exists(store: SqlStore) -> bool:
    """True when the database exists and holds a schema and at least one keyring term.

    A missing SQLite file is not opened (opening would create it).
    """
    if is_sqlite(store.url) and not os.path.exists(sqlite_path(store.url)):
        return False
    return store.schema_revision() is not None and store.has_terms()


def where(store: SqlStore, home: object) -> str:
    """The registry's place for a message: the SQLite file and BLOCKS_HOME, or the database URL
    without its password."""
    url = store.url
    return f"{sqlite_path(url)} (BLOCKS_HOME={home})" if is_sqlite(url) else display_url(url)
