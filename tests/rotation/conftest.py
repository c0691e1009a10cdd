"""Servers for rotation tests: moto with authentication on, a private password-checking
PostgreSQL cluster (the shared one trusts every password)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _start_or_skip
from tests.servers import Server, start_moto

ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
# create_user, put_user_policy, create_access_key: then moto checks every request's key.
SETUP_ACTIONS = 3


@dataclass(frozen=True)
class MotoAuth:
    """A moto server that authenticates requests, with an admin user's key."""

    url: str
    admin_key_id: str
    admin_secret: str

    def client(self, service: str, key_id: str | None = None, secret: str | None = None) -> Any:
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=key_id or self.admin_key_id,
            aws_secret_access_key=secret or self.admin_secret,
        )


@pytest.fixture(scope="session")
def moto_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoAuth]:
    """moto with ``INITIAL_NO_AUTH_ACTION_COUNT``: only keys that exist in its IAM work."""
    import boto3

    def start(workdir: Path) -> Server:
        return start_moto(workdir, no_auth_actions=SETUP_ACTIONS)

    server = _start_or_skip(start, tmp_path_factory.mktemp("moto-auth"))
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup-secret")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=ADMIN_POLICY)
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    yield MotoAuth(server.url, key["AccessKeyId"], key["SecretAccessKey"])
    server.stop()


def new_user(moto: MotoAuth) -> tuple[str, str, str]:
    """A fresh IAM user allowed to manage its own keys: ``(name, key id, secret)``."""
    iam = moto.client("iam")
    name = f"app-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="own-keys", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["iam:*AccessKey*", "sts:GetCallerIdentity"],
            "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]
