"""The ``aws-iam-access-key`` rotator: a new access key of the block's IAM user.

create: a second key for the user (keeping the two-keys limit: an inactive key other than the
current one is deleted first; a key an interrupted create left behind, never saved, too);
set: the key is active; test: STS ``GetCallerIdentity`` with the new key answers for the same
user, and IAM lists the key as active; revoke: the previous key is deactivated, then deleted;
cancel: the pending key is deleted. The current key is never touched.

IAM calls use the block's own credentials (a user allowed to manage its own keys) or those of
an ``admin_block``. The IAM user is assumed to be dedicated to the block.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from blocks.core import Block, split_ref
from blocks.errors import RotationError, ValidationError
from blocks.rotation.base import RotationContext, with_value
from blocks.types._rules import import_extra

LIMIT = 2


class AwsIamOptions(BaseModel):
    """Options of ``aws-iam-access-key``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_block: str | None = Field(
        default=None,
        description="aws-credentials block (slug/name) that manages the keys; default: the "
        "rotated block itself (the user must be allowed iam:*AccessKey* on itself).",
    )
    user_name: str | None = Field(
        default=None, description="IAM user; default: the user the current key belongs to."
    )
    test_seconds: float = Field(
        default=30.0, gt=0, le=600,
        description="How long the test step retries while a new key propagates.",
    )


def _creds(block: Block) -> Any:
    from blocks.types.aws import AwsCredentials

    assert isinstance(block, AwsCredentials)
    return block


def _client_error() -> type[Exception]:
    exc: type[Exception] = import_extra(
        "botocore.exceptions", package="boto3", extra="aws", purpose="aws-iam-access-key"
    ).ClientError
    return exc


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class AwsIamAccessKeyRotator:
    """Rotates an IAM user's access key with a second key, then retires the first."""

    name: ClassVar[str] = "aws-iam-access-key"
    options_model: ClassVar[type[BaseModel]] = AwsIamOptions

    def fields(self, block_type: type[Block], options: BaseModel) -> tuple[str, ...]:
        """The key pair (and the session token, cleared)."""
        return ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")

    def check(self, block_type: type[Block], options: BaseModel) -> None:
        from blocks.types.aws import AwsCredentials

        assert isinstance(options, AwsIamOptions)
        problems = []
        if not issubclass(block_type, AwsCredentials):
            problems.append(("rotator", "aws-iam-access-key rotates aws-credentials blocks"))
        if options.admin_block is not None and split_ref(options.admin_block)[0] != (
            "aws-credentials"
        ):
            problems.append(("options.admin_block", "must name an aws-credentials block"))
        if problems:
            raise ValidationError(f"rotation of {block_type.block_type_slug}", problems)

    # -- helpers --------------------------------------------------------------------------

    def _iam(self, ctx: RotationContext) -> Any:
        options = ctx.options
        assert isinstance(options, AwsIamOptions)
        admin = ctx.registry.load(options.admin_block) if options.admin_block else ctx.current
        return _creds(admin).get_client("iam")

    def _user(self, ctx: RotationContext) -> str:
        options = ctx.options
        assert isinstance(options, AwsIamOptions)
        user = ctx.state.get("user") or options.user_name
        if not user:
            arn = _creds(ctx.current).get_client("sts").get_caller_identity()["Arn"]
            if ":user/" not in arn:
                raise RotationError(ctx.ref, "create", f"the current key belongs to {arn}, "
                                    "not an IAM user; set options.user_name")
            user = arn.rsplit("/", 1)[1]
        ctx.state["user"] = user
        return str(user)

    @staticmethod
    def _keys(iam: Any, user: str) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return sorted(keys, key=lambda k: k["CreateDate"])

    @staticmethod
    def _delete(iam: Any, user: str, key_id: str) -> None:
        try:
            iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
            iam.delete_access_key(UserName=user, AccessKeyId=key_id)
        except _client_error() as exc:
            if _code(exc) != "NoSuchEntity":
                raise

    # -- steps ----------------------------------------------------------------------------

    def create(self, ctx: RotationContext) -> Block:
        iam, user = self._iam(ctx), self._user(ctx)
        current_id = _creds(ctx.current).aws_access_key_id
        keys = self._keys(iam, user)
        before = ctx.state.get("keys_before_create")
        if isinstance(before, list):
            # An interrupted create made a key that was never saved: nobody holds it.
            for key in keys:
                if key["AccessKeyId"] not in before and key["AccessKeyId"] != current_id:
                    self._delete(iam, user, key["AccessKeyId"])
            keys = self._keys(iam, user)
        if len(keys) >= LIMIT:
            inactive = [k for k in keys
                        if k["Status"] == "Inactive" and k["AccessKeyId"] != current_id]
            if not inactive:
                others = ", ".join(k["AccessKeyId"] for k in keys
                                   if k["AccessKeyId"] != current_id)
                raise RotationError(ctx.ref, "create", f"IAM user {user} already has {LIMIT} "
                                    f"active keys (current and {others}); deactivate or delete "
                                    f"{others} first, it is not this block's")
            self._delete(iam, user, inactive[0]["AccessKeyId"])
            keys = self._keys(iam, user)
        ctx.state["keys_before_create"] = [k["AccessKeyId"] for k in keys]
        ctx.checkpoint()
        made = iam.create_access_key(UserName=user)["AccessKey"]
        ctx.state["pending_key_id"] = made["AccessKeyId"]
        pending = with_value(ctx.current, "aws_access_key_id", made["AccessKeyId"])
        pending = with_value(pending, "aws_session_token", None)
        return with_value(pending, "aws_secret_access_key", made["SecretAccessKey"])

    def set(self, ctx: RotationContext) -> None:
        iam, user = self._iam(ctx), self._user(ctx)
        key_id = _creds(ctx.require_pending()).aws_access_key_id
        iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Active")

    def test(self, ctx: RotationContext) -> None:
        options = ctx.options
        assert isinstance(options, AwsIamOptions)
        pending, user = _creds(ctx.require_pending()), self._user(ctx)
        status = {k["AccessKeyId"]: k["Status"] for k in self._keys(self._iam(ctx), user)}
        if status.get(pending.aws_access_key_id) != "Active":
            raise RotationError(ctx.ref, "test", f"IAM lists the new key "
                                f"{pending.aws_access_key_id} as "
                                f"{status.get(pending.aws_access_key_id, 'missing')}")
        deadline = time.monotonic() + options.test_seconds
        while True:
            try:
                arn = pending.get_client("sts").get_caller_identity()["Arn"]
                break
            except _client_error() as exc:
                if time.monotonic() > deadline:
                    raise RotationError(ctx.ref, "test", f"STS refuses the new key "
                                        f"{pending.aws_access_key_id}: {_code(exc)}") from None
                time.sleep(1.0)
        if not str(arn).endswith(f":user/{user}"):
            raise RotationError(ctx.ref, "test", f"the new key belongs to {arn}, not {user}")

    def revoke(self, ctx: RotationContext) -> None:
        old_id = _creds(ctx.require_previous()).aws_access_key_id
        if old_id and old_id != _creds(ctx.current).aws_access_key_id:
            self._delete(self._iam(ctx), self._user(ctx), old_id)

    def cancel(self, ctx: RotationContext) -> None:
        new_id = _creds(ctx.require_pending()).aws_access_key_id
        if new_id and new_id != _creds(ctx.current).aws_access_key_id:
            self._delete(self._iam(ctx), self._user(ctx), new_id)
