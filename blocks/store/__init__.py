"""Persistence: sqlmodel tables, alembic migrations, SQLite (embedded) or PostgreSQL."""
