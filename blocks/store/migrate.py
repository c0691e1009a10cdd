"""Apply alembic migrations (imported only when the schema is not at ``HEAD_REVISION``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from blocks.errors import StoreError

SCRIPT_LOCATION = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (idempotent; safe if another process races)."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Serialise concurrent first-use migrations across processes.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7368324019)")
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate the database: {exc}. Is it from a newer version of blocks?"
            ) from None


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (for tests and emergencies)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def script_head() -> str:
    """The head revision of the migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
