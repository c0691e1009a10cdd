"""The ``generated`` rotator: contract, password policy, secret fields of any type."""

from __future__ import annotations

import string

import pytest

from blocks import Registry, Secret
from blocks.codec import secret_values
from blocks.core import Block
from blocks.errors import ValidationError
from blocks.rotation import RotationPolicy, rotate, set_rotation
from blocks.rotation.generated import PasswordPolicy
from blocks.types.database import DatabaseCredentials
from tests.registry_fixtures import backing
from tests.rotation.contract import Accepts, RotatorContract

pytestmark = pytest.mark.over_http


class TestGeneratedContract(RotatorContract):
    @pytest.fixture
    def rotation_registry(self, registry: Registry) -> Registry:
        return registry

    @pytest.fixture
    def engine_registry(self, registry: Registry) -> Registry:
        return backing(registry)  # a server's engine is killed mid-step, the client resumes

    @pytest.fixture
    def rotated(self, rotation_registry: Registry) -> tuple[str, RotationPolicy]:
        Secret(value="first-value-0123456789").save("token", registry=rotation_registry)
        return "secret/token", RotationPolicy(rotator="generated", interval="30d")

    @pytest.fixture
    def accepts(self, rotation_registry: Registry) -> Accepts:
        # No upstream: a value "works" when it is one the block holds.
        def accepts(block: Block) -> bool:
            history = rotation_registry.history("secret/token")
            return block.block_version in {v.version for v in history}
        return accepts

    def _has_upstream(self, block: Block) -> bool:
        return False


def test_policy_draws_every_class_and_respects_exclusions() -> None:
    policy = PasswordPolicy(length=12, classes=("lower", "digits", "symbols"), symbols="!-_",
                            exclude="0O1l-")
    for _ in range(200):
        value = policy.generate()
        assert len(value) == 12
        assert not set(value) & set("0O1l-")
        assert set(value) <= set(string.ascii_lowercase + string.digits + "!_")
        assert any(c.isdigit() for c in value) and any(c in "!_" for c in value)
        assert policy.problems(value) == []
    assert len({policy.generate() for _ in range(100)}) == 100


def test_policy_refuses_a_class_emptied_by_exclude() -> None:
    with pytest.raises(ValueError, match="digits"):
        PasswordPolicy(classes=("digits",), exclude=string.digits)


def test_rotates_a_named_secret_field_of_another_type(registry: Registry) -> None:
    DatabaseCredentials(driver="postgresql+psycopg", database="app", username="etl",
                        password="old-password-1").save("db", registry=registry)
    set_rotation("database-credentials/db", RotationPolicy(
        rotator="generated", options={"field": "password", "length": 24}),
        registry=registry)
    assert rotate("database-credentials/db", now=True, registry=registry).status == (
        "rotated")
    new = registry.load("database-credentials/db")
    assert isinstance(new, DatabaseCredentials) and new.password is not None
    assert len(new.password.get_secret_value()) == 24
    assert new.username == "etl"


def test_policy_for_a_field_that_is_not_secret_is_refused(registry: Registry) -> None:
    DatabaseCredentials(driver="sqlite", database="x.db").save("lite", registry=registry)
    with pytest.raises(ValidationError, match=r"options\.field: 'database' is not a secret"):
        set_rotation("database-credentials/lite", RotationPolicy(
            rotator="generated", options={"field": "database"}), registry=registry)
    with pytest.raises(ValidationError, match=r"options\.length"):
        set_rotation("database-credentials/lite", RotationPolicy(
            rotator="generated", options={"field": "password", "length": 10**7}),
            registry=registry)


def test_generated_value_never_in_outcome_or_repr(registry: Registry) -> None:
    Secret(value="first-value-0123456789").save("t", registry=registry)
    set_rotation("secret/t", RotationPolicy(rotator="generated"), registry=registry)
    outcome = rotate("secret/t", now=True, registry=registry)
    value = registry.load("secret/t")
    (secret,) = secret_values(value)
    assert secret not in repr(outcome) and secret not in repr(value)
