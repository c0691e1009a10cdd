"""Shared pytest fixtures."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Registries on SQLite and PostgreSQL (issue 2): blocks_home, sqlite_registry, pg_url,
# pg_registry, registry (parametrised over both databases).
from tests.registry_fixtures import (  # noqa: F401
    blocks_home,
    pg_registry,
    pg_url,
    pytest_generate_tests,
    registry,
    sqlite_registry,
)

# A real blocks server in a thread (issue 20): serve(), served_registry, server_url,
# http_registry.
from tests.server_fixtures import (  # noqa: F401
    http_registry,
    served_registry,
    server_url,
)
from tests.servers import (  # issue 3, below
    SHARED_DIR_ENV,
    Server,
    ServerUnavailable,
    run_wide_turn,
    start_moto,
    start_openbao,
    stop_shared_servers,
)

# The run's "Terraform" section, also on the pytest-xdist controller (see that module).
pytest_plugins = ["tests.terraform.summary"]

# ==================================================================================================
# Key-provider test servers (issue 3): moto (AWS KMS) and OpenBao dev (Vault Transit).
# Session-scoped: each server starts once on 127.0.0.1 and stops at the end of the session.
# A missing binary skips the tests that need it, except with CI=true, where it fails.
# ==================================================================================================


def _start_or_skip(start: Any, workdir: Path) -> Server:
    try:
        return start(workdir)  # type: ignore[no-any-return]
    except ServerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A moto server (AWS KMS endpoint) on a free loopback port."""
    server = _start_or_skip(start_moto, tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openbao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An OpenBao dev server with the Transit engine at ``transit/`` and AppRole at ``approle/``."""
    server = _start_or_skip(start_openbao, tmp_path_factory.mktemp("openbao"))
    import hvac

    root = hvac.Client(url=server.url, token=server.extra["token"])
    root.sys.enable_secrets_engine("transit", path="transit")
    root.sys.enable_auth_method("approle", path="approle")
    yield server
    server.stop()


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-never-printed",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: Server) -> Server:
    """Fake AWS credentials and region in the environment, pointing KMS at the moto server."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", moto_server.url)
    return moto_server


@pytest.fixture
def kms_key(aws_env: Server) -> str:
    """A new symmetric KMS key in moto, returned as its alias ``alias/blocks-<random>``."""
    import boto3

    client = boto3.client("kms", endpoint_url=aws_env.url)
    key_id = client.create_key(Description="blocks test")["KeyMetadata"]["KeyId"]
    alias = f"alias/blocks-{secrets.token_hex(4)}"
    client.create_alias(AliasName=alias, TargetKeyId=key_id)
    return alias


@dataclass(frozen=True)
class VaultAccess:
    """Where and how tests reach the OpenBao dev server."""

    url: str
    root_token: str

    def client(self) -> Any:
        """An hvac client with the root token."""
        import hvac

        return hvac.Client(url=self.url, token=self.root_token)

    def new_transit_key(self) -> str:
        """Create a fresh ``aes256-gcm96`` Transit key; returns its name."""
        name = f"blocks-{secrets.token_hex(4)}"
        self.client().secrets.transit.create_key(name=name, key_type="aes256-gcm96")
        return name

    def approle_for(self, key: str) -> tuple[str, str]:
        """An AppRole allowed to encrypt/decrypt with ``key`` only: ``(role_id, secret_id)``."""
        client = self.client()
        policy = (
            f'path "transit/encrypt/{key}" {{ capabilities = ["update"] }}\n'
            f'path "transit/decrypt/{key}" {{ capabilities = ["update"] }}\n'
        )
        client.sys.create_or_update_policy(name=f"p-{key}", policy=policy)
        client.auth.approle.create_or_update_approle(
            role_name=key, token_policies=[f"p-{key}"], token_ttl="5m"
        )
        role_id = client.auth.approle.read_role_id(role_name=key)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(role_name=key)["data"]["secret_id"]
        return role_id, secret_id


@pytest.fixture
def vault(openbao_server: Server, monkeypatch: pytest.MonkeyPatch) -> VaultAccess:
    """The OpenBao dev server, with ``VAULT_ADDR``/``VAULT_TOKEN`` set in the environment."""
    monkeypatch.setenv("VAULT_ADDR", openbao_server.url)
    monkeypatch.setenv("VAULT_TOKEN", openbao_server.extra["token"])
    return VaultAccess(openbao_server.url, openbao_server.extra["token"])


# ==================================================================================================
# End of the key-provider section.
# ==================================================================================================


# ==================================================================================================
# CI guard: under CI=true a skipped test is a failure, so nothing is silently left out.
# Under pytest-xdist the controller decides: it receives every worker's reports.
# ==================================================================================================
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") != "true" or hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        for report in skipped:
            reporter.write_line(f"CI=true forbids skips: {report.nodeid} {report.longrepr}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ==================================================================================================
# pytest-xdist (scripts/test.sh runs the suite on several workers): the session fixtures above
# start their servers per worker on free ports; the Prefect server, the slowest to start, is
# one for the whole run (tests.servers.shared_server): the first process (controller, or the
# only one) makes the directory it is recorded in, and stops it at the end.
# ==================================================================================================
_SHARED = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(SHARED_DIR_ENV):  # a worker, or a pytest run by a test: not the owner
        return
    root = Path(tempfile.mkdtemp(prefix="blocks-shared-"))
    os.environ[SHARED_DIR_ENV] = str(root)  # workers start after configure and inherit it
    config.stash[_SHARED] = root


def pytest_unconfigure(config: pytest.Config) -> None:
    root = config.stash.get(_SHARED, None)
    if root is not None:
        stop_shared_servers(root)
        shutil.rmtree(root, ignore_errors=True)
        os.environ.pop(SHARED_DIR_ENV, None)


# ==================================================================================================
# The tests that change objects on the shared Prefect server (block documents, pools, queues,
# deployments by fixed names) take turns, run-wide, as they did before pytest-xdist: two of them
# at once on one server would see each other's writes. (xdist's ``--dist loadgroup`` does not
# group under pytest 9.2, and a scheduler that groups them spreads every other module over all
# workers, each then starting every kind of server: measured 35% more CPU.)
# ==================================================================================================
PREFECT_SERVER_TESTS = (
    "tests/integrations/test_deploy_credentials.py",
    "tests/integrations/test_import.py",
    "tests/integrations/test_mirror.py",
    "tests/integrations/test_mirror_integrity.py",
    "tests/integrations/test_mirror_nested.py",
    "tests/integrations/test_result_storage.py",
    "tests/integrations/test_publish.py",
    "tests/integrations/test_schedules.py",
    "tests/integrations/test_terraform_publish.py",
    "tests/integrations/test_worker_run.py",
    "tests/prefect/test_dropin.py",
    "tests/prefect/test_parameter_schemas.py",
    "tests/ui/test_pools_prefect.py",
)
"""Test files whose tests use the run's one Prefect server (``prefect_server``)."""
TURN_TIMEOUT_S = 900
"""pytest-timeout of those tests: waiting for the turn counts too."""


@pytest.fixture(autouse=True)
def _one_test_at_a_time_on_the_shared_prefect_server(
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    # A test of those files that never reaches the server (no prefect_server fixture, not even
    # through another fixture) cannot see or make its writes: it runs without waiting its turn.
    if (request.node.nodeid.split("::", 1)[0] not in PREFECT_SERVER_TESTS
            or "prefect_server" not in request.fixturenames):
        yield
        return
    with run_wide_turn("prefect"):
        yield


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        uses = "prefect_server" in getattr(item, "fixturenames", ())
        listed = item.nodeid.split("::", 1)[0] in PREFECT_SERVER_TESTS
        if uses and not listed:
            raise pytest.UsageError(
                f"{item.nodeid} uses the shared Prefect server: add its file to "
                "PREFECT_SERVER_TESTS in tests/conftest.py (its tests then take turns)")
        if listed:
            item.add_marker(pytest.mark.timeout(TURN_TIMEOUT_S))
