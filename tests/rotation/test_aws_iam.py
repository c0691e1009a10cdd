"""``aws-iam-access-key`` against moto's IAM and STS with authentication on.

moto still accepts an *inactive* key for requests (real AWS refuses it), so "does upstream
accept this key" is checked as: STS answers for it AND IAM lists it as Active.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blocks import Registry
from blocks.core import Block
from blocks.rotation import Rotation, RotationPolicy, set_rotation
from blocks.types.aws import AwsClientParameters, AwsCredentials
from tests.rotation.conftest import MotoAuth, new_user
from tests.rotation.contract import Accepts, RotatorContract

pytestmark = pytest.mark.aws


def _status(moto: MotoAuth, user: str) -> dict[str, str]:
    keys = moto.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in keys}


def _save(registry: Registry, moto: MotoAuth, name: str) -> tuple[str, str]:
    user, key_id, secret = new_user(moto)
    AwsCredentials(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(endpoint_url=moto.url),
    ).save(name, registry=registry)
    return user, f"aws-credentials/{name}"


class TestAwsIamContract(RotatorContract):
    @pytest.fixture
    def rotation_registry(self, sqlite_registry: Registry) -> Registry:
        return sqlite_registry

    @pytest.fixture
    def user_and_ref(self, sqlite_registry: Registry, moto_auth: MotoAuth) -> tuple[str, str]:
        return _save(sqlite_registry, moto_auth, "deployer")

    @pytest.fixture
    def rotated(self, user_and_ref: tuple[str, str]) -> tuple[str, RotationPolicy]:
        return user_and_ref[1], RotationPolicy(rotator="aws-iam-access-key", interval="90d")

    @pytest.fixture
    def accepts(self, moto_auth: MotoAuth, user_and_ref: tuple[str, str]) -> Accepts:
        user = user_and_ref[0]

        def accepts(block: Block) -> bool:
            assert isinstance(block, AwsCredentials)
            key_id = block.aws_access_key_id
            if _status(moto_auth, user).get(key_id or "") != "Active":
                return False
            secret = block.aws_secret_access_key
            assert secret is not None
            sts = moto_auth.client("sts", key_id, secret.get_secret_value())
            return str(sts.get_caller_identity()["Arn"]).endswith(f"/{user}")
        return accepts


def test_third_rotation_deletes_the_oldest_inactive_key_never_current(
    sqlite_registry: Registry, moto_auth: MotoAuth
) -> None:
    user, ref = _save(sqlite_registry, moto_auth, "limit")
    iam = moto_auth.client("iam")
    # Grace: the previous key stays (active) until the next rotation revokes it.
    set_rotation(ref, RotationPolicy(rotator="aws-iam-access-key", grace="30d"),
                 registry=sqlite_registry)
    rot = Rotation(sqlite_registry)
    assert rot.rotate(ref, force=True).status == "rotated"
    current = sqlite_registry.load(ref)
    assert isinstance(current, AwsCredentials)
    assert len(_status(moto_auth, user)) == 2
    # Someone deactivates the previous key by hand; rotation now finds two keys, one
    # inactive: it must delete that one, not the current key.
    (old_id,) = set(_status(moto_auth, user)) - {current.aws_access_key_id}
    iam.update_access_key(UserName=user, AccessKeyId=old_id, Status="Inactive")
    # Forget the pending revocation (through the sealed write path: raw SQL is refused).
    block_id, now = sqlite_registry.summary(ref).id, datetime.now(UTC)
    rec = rot.store.acquire(block_id, "test", now, now + timedelta(minutes=1))
    assert rec is not None
    rot.store.write(rec, "test", revoke_version=None, revoke_due_at=None,
                    revoke_state=None, lease_owner=None, lease_until=None)
    assert rot.rotate(ref, force=True).status == "rotated"
    status = _status(moto_auth, user)
    assert old_id not in status
    assert status[current.aws_access_key_id] == "Active"
    assert len(status) == 2


def test_two_active_foreign_keys_fail_with_a_clear_error(
    sqlite_registry: Registry, moto_auth: MotoAuth
) -> None:
    user, ref = _save(sqlite_registry, moto_auth, "crowded")
    moto_auth.client("iam").create_access_key(UserName=user)
    set_rotation(ref, RotationPolicy(rotator="aws-iam-access-key"), registry=sqlite_registry)
    outcome = Rotation(sqlite_registry).rotate(ref, force=True)
    assert outcome.status == "failed" and outcome.step == "create"
    assert "already has 2 active keys" in (outcome.error or "")
    current = sqlite_registry.load(ref)
    assert isinstance(current, AwsCredentials) and current.aws_secret_access_key is not None
    assert current.aws_secret_access_key.get_secret_value() not in (outcome.error or "")


def test_revoke_deactivates_then_deletes_the_previous_key(
    sqlite_registry: Registry, moto_auth: MotoAuth
) -> None:
    user, ref = _save(sqlite_registry, moto_auth, "revoker")
    first = sqlite_registry.load(ref)
    assert isinstance(first, AwsCredentials)
    set_rotation(ref, RotationPolicy(rotator="aws-iam-access-key", grace="0s"),
                 registry=sqlite_registry)
    assert Rotation(sqlite_registry).rotate(ref, force=True).status == "rotated"
    status = _status(moto_auth, user)
    assert first.aws_access_key_id not in status
    assert list(status.values()) == ["Active"]


def test_a_key_left_by_an_interrupted_create_is_deleted_not_kept(
    sqlite_registry: Registry, moto_auth: MotoAuth
) -> None:
    from blocks.rotation.aws_iam import AwsIamAccessKeyRotator, AwsIamOptions
    from blocks.rotation.base import RotationContext

    user, ref = _save(sqlite_registry, moto_auth, "orphan")
    current = sqlite_registry.load(ref)
    assert isinstance(current, AwsCredentials)
    # A create that recorded the keys it saw, made a key, then died before staging it.
    orphan = moto_auth.client("iam").create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    state = {"user": user, "keys_before_create": [current.aws_access_key_id]}
    ctx = RotationContext(sqlite_registry, ref, current, AwsIamOptions(), state)
    pending = AwsIamAccessKeyRotator().create(ctx)
    assert isinstance(pending, AwsCredentials)
    status = _status(moto_auth, user)
    assert orphan not in status
    assert set(status) == {current.aws_access_key_id, pending.aws_access_key_id}
