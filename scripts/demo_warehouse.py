"""The journey's warehouse: a role and a database made for it on the local PostgreSQL through
the admin block (dropped again at the end), or a SQLite file when no PostgreSQL answers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class Warehouse:
    """``admin_url`` is the PostgreSQL admin login, or ``None`` for SQLite."""

    def __init__(self, admin_url: str | None, demo_dir: Path) -> None:
        self.admin_url, self.dir = admin_url, demo_dir
        self.postgres = admin_url is not None
        self.name = f"blocks_demo_{secrets.token_hex(3)}"
        self.created = False

    def describe(self, why_not: str | None) -> str:
        if self.postgres:
            parts = urlsplit(self.admin_url or "")
            return (f"PostgreSQL answers at {parts.hostname}:{parts.port or 5432}: the warehouse "
                    f"is role and database {self.name}, rotated through the admin login "
                    f"{parts.username}")
        return (f"no PostgreSQL ({why_not}): the warehouse is SQLite "
                "(BLOCKS_DEMO_POSTGRES_ADMIN_URL names another admin login)")

    def tfvars(self) -> dict[str, Any]:
        """The Terraform variables that describe the warehouse (no secret)."""
        if not self.postgres:
            return {"sqlite_path": str(self.dir / "warehouse.db")}
        parts = urlsplit(self.admin_url or "")
        return {"postgres": {"host": parts.hostname, "port": parts.port or 5432,
                             "admin_user": parts.username, "admin_database": parts.path[1:],
                             "app_user": self.name, "app_database": self.name}}

    def _admin(self, registry: Any) -> Any:
        from blocks.rotation.postgres import connect

        return connect(registry.load("database-credentials/pg-admin"), "database-credentials/"
                       "pg-admin")

    def create(self, registry: Any) -> list[str]:
        """Make the role and database (with a throwaway password nobody keeps); the first
        rotation then gives the role the password the block holds."""
        from psycopg import sql

        if not self.postgres:
            return ["SQLite: the pipeline creates its table in " + str(self.dir / "warehouse.db")]
        with self._admin(registry) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(self.name), sql.Literal(secrets.token_urlsafe(24))))
            self.created = True
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.name), sql.Identifier(self.name)))
        return [f"created role and database {self.name} through database-credentials/pg-admin",
                "its password comes from the rotation Terraform declared on "
                "database-credentials/warehouse (postgres-password)"]

    @staticmethod
    def password(registry: Any) -> str | None:
        block = registry.load("database-credentials/warehouse")
        return block.password.get_secret_value() if block.password else None

    def check_rotated(self, registry: Any, before: str | None) -> list[str]:
        """The database itself holds the new password's SCRAM verifier, not the old one's."""
        after = self.password(registry)
        assert after and after != before, "the rotation did not change the password"
        with self._admin(registry) as conn:
            stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                                  (self.name,)).fetchone()[0]
        assert scram_matches(stored, after), "pg_authid does not hold the new password"
        assert before is None or not scram_matches(stored, before), "the old password works"
        version = registry.summary("database-credentials/warehouse").current_version
        return [f"pg_authid of {self.name} now verifies the password of version {version}, "
                "and no longer the previous one"]

    def rows(self, registry: Any) -> int:
        from sqlalchemy import text

        engine = registry.load("database-credentials/warehouse").get_engine()
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM customer_totals"))
                           .scalar_one())
        finally:
            engine.dispose()

    def drop(self) -> None:
        """Drop the role and database (the admin URL, so this works without the registry)."""
        if not (self.postgres and self.created):
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url or "", autocommit=True, connect_timeout=5) as conn:
            with contextlib.suppress(psycopg.Error):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.name)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name)))
        self.created = False


def scram_matches(stored: str, password: str) -> bool:
    """Whether a ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey`` verifier is ``password``'s."""
    method, rest = stored.split("$", 1)
    if method != "SCRAM-SHA-256":
        return False
    iter_salt, keys = rest.split("$")
    iterations, salt = iter_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
