-- A role and a database for a Blocks registry (run as a PostgreSQL admin).
-- Blocks creates its own tables (alembic migrations) at `blocks init`.
CREATE ROLE blocks_registry LOGIN;
CREATE DATABASE blocks_registry OWNER blocks_registry;
REVOKE ALL ON DATABASE blocks_registry FROM PUBLIC;
