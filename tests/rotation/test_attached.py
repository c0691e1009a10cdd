"""``block.rotation = RotationPolicy(...)``: checked on assignment, stored by ``save()``."""

from __future__ import annotations

import pytest

from blocks import Registry, Secret
from blocks.errors import ValidationError
from blocks.rotation import RotationPolicy, get_rotation, rotate
from blocks.types.database import DatabaseCredentials

pytestmark = pytest.mark.over_http

POLICY = RotationPolicy(rotator="generated", interval="30d", options={"length": 40})


def _creds() -> DatabaseCredentials:
    return DatabaseCredentials(driver="postgresql+psycopg", host="db", port=5432,
                               database="app", username="etl", password="pw-0123456789")


def test_an_assigned_policy_is_stored_by_save(registry: Registry) -> None:
    secret = Secret(value="first-value-0123456789")
    assert secret.rotation is None
    secret.rotation = POLICY
    assert secret.rotation == POLICY  # assigned, not stored yet
    secret.save("tok", registry=registry)
    stored = get_rotation("secret/tok", registry=registry)
    assert stored is not None and stored.policy == POLICY and stored.next_due_at is not None
    loaded = Secret.load("tok", registry=registry)
    assert loaded.rotation == POLICY
    assert rotate("secret/tok", now=True, registry=registry).status == "rotated"
    assert len(Secret.load("tok", registry=registry).get()) == 40


def test_a_loaded_block_reads_the_policy_stored_now(registry: Registry) -> None:
    Secret(value="first-value-0123456789").save("tok", registry=registry)
    loaded = Secret.load("tok", registry=registry)
    assert loaded.rotation is None
    registry.rotation().set_policy("secret/tok", POLICY)
    assert loaded.rotation == POLICY


def test_assigning_none_then_saving_stops_rotating(registry: Registry) -> None:
    secret = Secret(value="first-value-0123456789")
    secret.rotation = POLICY
    secret.save("tok", registry=registry)
    loaded = Secret.load("tok", registry=registry)
    loaded.rotation = None
    assert loaded.rotation is None
    assert get_rotation("secret/tok", registry=registry) is not None  # not saved yet
    loaded.save(overwrite=True, registry=registry)
    assert get_rotation("secret/tok", registry=registry) is None
    assert Secret.load("tok", registry=registry).rotation is None


def test_a_save_without_assignment_keeps_the_stored_policy(registry: Registry) -> None:
    secret = Secret(value="first-value-0123456789")
    secret.rotation = POLICY
    secret.save("tok", registry=registry)
    Secret(value="second-value-0123456789").save("tok", overwrite=True, registry=registry)
    assert Secret.load("tok", registry=registry).rotation == POLICY


@pytest.mark.parametrize(("policy", "path", "words"), [
    (RotationPolicy(rotator="generated"), "rotation.options.field", "required for this type"),
    (RotationPolicy(rotator="generated", options={"field": "host"}), "rotation.options.field",
     "not a secret field"),
    (RotationPolicy(rotator="generated", options={"field": "password", "length": 2}),
     "rotation.options.length", "greater than or equal to 8"),
    (RotationPolicy(rotator="no-such-rotator"), "rotation.rotator", "unknown rotator"),
    ({"rotator": "generated", "interval": "soon"}, "rotation.interval", "not a duration"),
    ("30d", "rotation", "must be a RotationPolicy"),
])
def test_a_bad_policy_is_refused_on_assignment_naming_the_field(
    policy: object, path: str, words: str
) -> None:
    creds = _creds()
    with pytest.raises(ValidationError) as caught:
        creds.rotation = policy  # type: ignore[assignment]
    assert [p for p, _ in caught.value.errors] == [path]
    assert words in str(caught.value) and path in str(caught.value)
    assert "pw-0123456789" not in str(caught.value)
    assert creds.rotation is None


def test_a_policy_for_a_named_field_rotates_that_field(registry: Registry) -> None:
    creds = _creds()
    creds.rotation = {"rotator": "generated", "interval": "7d",
                      "options": {"field": "password", "length": 24}}
    creds.save("app-db", registry=registry)
    outcome = rotate("database-credentials/app-db", now=True, registry=registry)
    assert outcome.status == "rotated"
    rotated = DatabaseCredentials.load("app-db", registry=registry)
    assert rotated.password is not None
    assert len(rotated.password.get_secret_value()) == 24
    assert rotated.rotation is not None and rotated.rotation.schedule() == "every 1w"


def test_a_staged_save_does_not_store_the_policy(registry: Registry) -> None:
    Secret(value="first-value-0123456789").save("tok", registry=registry)
    staged = Secret(value="staged-value-0123456789")
    staged.rotation = POLICY
    registry.save(staged, "tok", stage="pending", expected_version=1)
    assert get_rotation("secret/tok", registry=registry) is None
