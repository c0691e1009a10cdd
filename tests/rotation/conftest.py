"""Servers for rotation tests: moto with authentication on, a private password-checking
PostgreSQL cluster (the shared one trusts every password)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from blocks import Registry
from blocks.core import Block
from blocks.types.database import DatabaseCredentials
from tests.conftest import _start_or_skip
from tests.servers import Server, start_moto

# The real-Terraform fixtures, for test_terraform.py (they start nothing until a test uses them).
# Outside tests/terraform they run on the virtualenv's Terraform only (terraform_binary's default).
from tests.terraform.conftest import (  # noqa: F401
    _private_spec_cache,
    terraform_binary,
    tf,
    tf_home_template,
    tf_initialised,
    tf_mirror,
    tf_registry,
)

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


# ==================================================================================================
# A private PostgreSQL cluster that checks passwords (scram-sha-256), run as the postgres user.
# ==================================================================================================


@dataclass(frozen=True)
class PrivatePostgres:
    """A password-checking cluster on a free loopback port."""

    host: str
    port: int
    superuser: str
    password: str

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, dbname="postgres",
                               user=self.superuser, password=self.password, autocommit=True)

    def can_login(self, user: str, password: str) -> bool:
        import psycopg

        try:
            psycopg.connect(host=self.host, port=self.port, dbname="postgres", user=user,
                            password=password, connect_timeout=5).close()
        except psycopg.OperationalError:
            return False
        return True


def _pg_binary(name: str) -> str:
    import glob
    import shutil

    found = shutil.which(name) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise FileNotFoundError(name)
    return found


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """``initdb --auth=scram-sha-256`` + ``pg_ctl start`` as the ``postgres`` OS user."""
    import os
    import shutil
    import subprocess
    import tempfile

    from tests.servers import HOST, free_port

    try:
        initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
        runuser = shutil.which("runuser")
        if runuser is None:
            raise FileNotFoundError("runuser")
    except FileNotFoundError as exc:
        reason = f"cannot start a private PostgreSQL cluster: {exc} not found"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    root = tempfile.mkdtemp(prefix="blocks-pg-")
    os.chmod(root, 0o755)
    shutil.chown(root, "postgres", "postgres")
    data, password = f"{root}/data", secrets.token_urlsafe(18)
    pwfile = f"{root}/pw"
    Path(pwfile).write_text(password)
    shutil.chown(pwfile, "postgres", "postgres")
    os.chmod(pwfile, 0o600)
    as_pg = [runuser, "-u", "postgres", "--"]
    port = free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run([*as_pg, initdb, "-D", data, "-U", "postgres", "--auth=scram-sha-256",
                    f"--pwfile={pwfile}"], **run)  # type: ignore[call-overload]
    os.unlink(pwfile)
    subprocess.run([*as_pg, pg_ctl, "-D", data, "-l", f"{root}/log", "-w", "-t", "60", "-o",
                    f"-p {port} -k {root} -c listen_addresses={HOST}", "start"],
                   **run)  # type: ignore[call-overload]
    try:
        yield PrivatePostgres(HOST, port, "postgres", password)
    finally:
        subprocess.run([*as_pg, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def creds_on(pg: PrivatePostgres, user: str, password: str) -> DatabaseCredentials:
    return DatabaseCredentials(driver="postgresql+psycopg", host=pg.host, port=pg.port,
                               database="postgres", username=user, password=password)


@pytest.fixture
def roles(private_postgres: PrivatePostgres, sqlite_registry: Registry) -> dict[str, Any]:
    """An admin role (CREATEROLE) saved as a block, and app / app_clone roles."""
    tag = secrets.token_hex(3)
    names = {"admin": f"rot_admin_{tag}", "app": f"app_{tag}", "clone": f"app_{tag}_clone"}
    passwords = {k: secrets.token_urlsafe(12) for k in names}
    with private_postgres.admin() as conn:
        for key, name in names.items():
            extra = sql.SQL(" CREATEROLE") if key == "admin" else sql.SQL("")
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}{}").format(
                sql.Identifier(name), sql.Literal(passwords[key]), extra))
    creds_on(private_postgres, names["admin"], passwords["admin"]).save(
        "pg-admin", registry=sqlite_registry)
    creds_on(private_postgres, names["app"], passwords["app"]).save("app", registry=sqlite_registry)
    return {"names": names, "passwords": passwords}


def accepts_on(pg: PrivatePostgres) -> Callable[[Block], bool]:
    def accepts(block: Block) -> bool:
        assert isinstance(block, DatabaseCredentials) and block.password is not None
        return pg.can_login(str(block.username), block.password.get_secret_value())
    return accepts

