"""Alembic migrations of the registry database.

``HEAD_REVISION`` lets a process check the schema with one query instead of importing alembic;
``tests/store/test_migrations.py`` checks that it matches the scripts' head.
"""

HEAD_REVISION = "0016_machine_identities"
