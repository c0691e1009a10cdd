"""Issue 17, point 7: a read never creates a registry (a mistyped BLOCKS_HOME or database URL is
an error, not an empty registry with a new master key), and a failed ``init`` leaves nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from blocks import BlockNotFound, Registry, RegistryNotFound, Secret, Settings
from blocks.cli.main import main
from blocks.errors import ConfigurationError
from tests.servers import Server, closed_port_url


def _use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("BLOCKS_HOME", str(home))
    Registry.reset_default()


@pytest.mark.parametrize("kind", ["missing-directory", "empty-directory"])
def test_load_from_a_mistyped_home_refuses_and_creates_nothing(
    blocks_home: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    Secret(value="real").save("api")  # the real registry, at blocks_home
    typo = blocks_home.parent / "blocks-hmoe"
    if kind == "empty-directory":
        typo.mkdir(mode=0o700)
    _use_home(monkeypatch, typo)
    for read in (lambda: Secret.load("api"), lambda: Registry.default().history("secret/api"),
                 lambda: Registry.default().stages("secret/api"),
                 lambda: Registry.default().delete("secret/api")):
        with pytest.raises(RegistryNotFound) as caught:
            read()
        message = str(caught.value)
        assert str(typo / "blocks.db") in message and "blocks init" in message
        assert isinstance(caught.value, ConfigurationError)
    assert not typo.exists() if kind == "missing-directory" else list(typo.iterdir()) == []
    _use_home(monkeypatch, blocks_home)
    assert Secret.load("api").get() == "real"


def test_first_save_of_a_new_user_creates_the_registry(
    blocks_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not blocks_home.exists()
    try:  # Prefect's load-or-create: a missing block is a ValueError
        Secret.load("api")
    except ValueError as missing:
        assert isinstance(missing, RegistryNotFound) and isinstance(missing, BlockNotFound)
    assert not blocks_home.exists()
    Secret(value="first").save("api")
    assert (blocks_home / "blocks.db").exists() and (blocks_home / "master.key").exists()
    Registry.reset_default()
    assert Secret.load("api").get() == "first"


@pytest.mark.postgres
def test_load_from_a_database_with_no_registry_refuses_and_creates_nothing(
    blocks_home: Path, pg_url: str
) -> None:
    reg = Registry(Settings(home=blocks_home, database_url=pg_url))
    with pytest.raises(RegistryNotFound, match="no registry at postgresql"):
        reg.load("secret/api")
    reg.close()
    schema = make_url(pg_url).query["options"]
    plain = make_url(pg_url).set(drivername="postgresql", query={})
    with psycopg.connect(plain.render_as_string(hide_password=False)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
            (str(schema).rsplit("=", 1)[-1],),
        ).fetchone()
    assert tables == (0,)
    assert not blocks_home.exists()  # no master key file either


@pytest.mark.aws
@pytest.mark.parametrize("failure", ["no-such-key", "unreachable"])
def test_failed_init_with_aws_kms_leaves_no_database_behind(
    blocks_home: Path, aws_env: Server, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], failure: str,
) -> None:
    if failure == "unreachable":
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", closed_port_url())
    blocks_home.mkdir(mode=0o700)
    assert main(["init", "--key-provider", "aws-kms:alias/blocks-no-such-key"]) == 1
    assert "aws-kms" in capsys.readouterr().err
    assert list(blocks_home.iterdir()) == []


def test_init_that_fails_after_creating_the_database_removes_it(
    blocks_home: Path,
) -> None:
    from blocks.keys.local import LocalKeyProvider

    class RefusesToWrapTerms(LocalKeyProvider):
        """Passes the check, then refuses to wrap the first term (e.g. a KMS grant that
        allows the check's context only)."""

        def wrap(self, plaintext: bytes, context):  # type: ignore[no-untyped-def, override]
            if context.get("purpose") != "check":
                raise ConfigurationError("refused")
            return super().wrap(plaintext, context)

    blocks_home.mkdir(mode=0o700)
    reg = Registry(Settings(home=blocks_home),
                   key_provider=RefusesToWrapTerms(b"k" * 32))
    with pytest.raises(ConfigurationError, match="refused"):
        reg.init()
    assert list(blocks_home.iterdir()) == []
