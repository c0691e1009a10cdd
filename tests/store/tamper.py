"""Direct SQL, as an attacker with write access to the database (but no master key) runs it."""

from __future__ import annotations

import sqlite3
from typing import Any

from blocks.store.engine import is_sqlite, native_sql, normalise_url, sqlite_path


def tamper(url: str, statement: str, *params: Any) -> None:
    """Run one statement on its own connection, with foreign-key checks off, and commit."""
    url = normalise_url(url)
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        try:
            conn.execute(statement, params)
        finally:
            conn.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(native_sql(statement, False), params)  # type: ignore[arg-type]
