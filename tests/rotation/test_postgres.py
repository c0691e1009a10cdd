"""``postgres-password`` against a private PostgreSQL cluster that checks passwords."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from blocks import Registry
from blocks.rotation import Rotation, RotationPolicy, set_rotation
from blocks.types.database import DatabaseCredentials
from tests.rotation.conftest import PrivatePostgres, accepts_on, creds_on
from tests.rotation.contract import Accepts, RotatorContract

pytestmark = pytest.mark.postgres


class TestSingleUserContract(RotatorContract):
    previous_works_in_grace = False
    current_works_while_pending = False

    @pytest.fixture
    def rotation_registry(self, sqlite_registry: Registry) -> Registry:
        return sqlite_registry

    @pytest.fixture
    def rotated(self, roles: dict[str, Any]) -> tuple[str, RotationPolicy]:
        return "database-credentials/app", RotationPolicy(
            rotator="postgres-password", options={"admin_block": "database-credentials/pg-admin"})

    @pytest.fixture
    def accepts(self, private_postgres: PrivatePostgres) -> Accepts:
        return accepts_on(private_postgres)


class TestAlternatingUsersContract(TestSingleUserContract):
    previous_works_in_grace = True
    current_works_while_pending = True

    @pytest.fixture
    def rotated(self, roles: dict[str, Any]) -> tuple[str, RotationPolicy]:
        return "database-credentials/app", RotationPolicy(
            rotator="postgres-password", grace="1h",
            options={"admin_block": "database-credentials/pg-admin",
                     "strategy": "alternating-users"})


def test_alternating_users_flip_roles_and_old_connections_keep_working(
    sqlite_registry: Registry, private_postgres: PrivatePostgres, roles: dict[str, Any]
) -> None:
    names, ref = roles["names"], "database-credentials/app"
    set_rotation(ref, RotationPolicy(rotator="postgres-password", grace="1h", options={
        "admin_block": "database-credentials/pg-admin", "strategy": "alternating-users"}),
        registry=sqlite_registry)
    first = sqlite_registry.load(ref)
    assert isinstance(first, DatabaseCredentials) and first.password is not None
    held = psycopg.connect(
        host=private_postgres.host, port=private_postgres.port, dbname="postgres",
        user=first.username, password=first.password.get_secret_value(), autocommit=True)
    rot = Rotation(sqlite_registry)
    assert rot.rotate(ref, force=True).status == "rotated"
    second = sqlite_registry.load(ref)
    assert isinstance(second, DatabaseCredentials)
    assert second.username == names["clone"]
    # During the grace: the open connection and new sign-ins with the previous credential work.
    assert held.execute("SELECT 1").fetchone() == (1,)
    assert accepts_on(private_postgres)(first) and accepts_on(private_postgres)(second)
    assert rot.rotate(ref, force=True).status == "rotated"  # revokes `first`, flips back
    third = sqlite_registry.load(ref)
    assert isinstance(third, DatabaseCredentials) and third.username == names["app"]
    assert not accepts_on(private_postgres)(first)
    assert accepts_on(private_postgres)(second) and accepts_on(private_postgres)(third)
    held.close()


def test_admin_block_must_be_another_role(
    sqlite_registry: Registry, roles: dict[str, Any]
) -> None:
    set_rotation("database-credentials/app", RotationPolicy(
        rotator="postgres-password", options={"admin_block": "database-credentials/app"}),
        registry=sqlite_registry)
    outcome = Rotation(sqlite_registry).rotate("database-credentials/app", force=True)
    assert outcome.status == "failed"
    assert "admin_block must be another block" in (outcome.error or "")
    assert roles["passwords"]["app"] not in (outcome.error or "")


def test_wrong_admin_password_fails_without_leaking(
    sqlite_registry: Registry, private_postgres: PrivatePostgres, roles: dict[str, Any]
) -> None:
    bad = "wrong-admin-password-xyz"
    creds_on(private_postgres, roles["names"]["admin"], bad).save(
        "pg-admin", overwrite=True, registry=sqlite_registry)
    set_rotation("database-credentials/app", RotationPolicy(
        rotator="postgres-password", options={"admin_block": "database-credentials/pg-admin"}),
        registry=sqlite_registry)
    outcome = Rotation(sqlite_registry).rotate("database-credentials/app", force=True)
    assert outcome.status == "failed" and outcome.step == "set"
    assert "cannot sign in as" in (outcome.error or "")
    assert bad not in (outcome.error or "")
    pending = sqlite_registry.load("database-credentials/app", stage="pending")
    assert isinstance(pending, DatabaseCredentials) and pending.password is not None
    assert pending.password.get_secret_value() not in (outcome.error or "")
    assert accepts_on(private_postgres)(sqlite_registry.load("database-credentials/app"))
