"""``blocks auth jwt issuer|role put|get|ls|rm`` on the server's database and through a real
server with an admin token; bad input names the option or JSON path; the issuer and role
survive a backup and restore (re-sealed under the target's keys) and still log a JWT in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.access.jwt_sessions import JwtSessions
from blocks.access.jwt_store import JwtStore
from blocks.access.store import AccessStore
from blocks.cli.main import main
from blocks.server.jwt_login import JwtLogin
from blocks.verify import verify
from tests.access.jwt_helpers import AUD, ISS, Key, claims, ec_key, jwks
from tests.backup.helpers import new_registry, read_backup, write_backup
from tests.server_fixtures import serve


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    Registry.reset_default()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def key() -> Key:
    return ec_key()


@pytest.fixture
def home(blocks_home: Path, tmp_path: Path, key: Key) -> Path:
    Registry(Settings(home=blocks_home)).init()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(key)))
    (tmp_path / "etl.json").write_text(json.dumps({"blocks": {"secret/etl-*": ["read"]}}))
    return blocks_home


def _configure(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "policies", "put", "etl-read", "--file",
                       str(tmp_path / "etl.json"))
    assert code == 0, err
    code, _, err = run(capsys, "auth", "jwt", "issuer", "put", "k8s", "--issuer", ISS,
                       "--jwks-file", str(tmp_path / "jwks.json"), "--audience", AUD,
                       "--algorithm", "ES256")
    assert code == 0 and "created JWT issuer 'k8s'" in err, err
    code, _, err = run(capsys, "auth", "jwt", "role", "put", "etl-worker", "--issuer", "k8s",
                       "--policy", "etl-read", "--bound-claim", "kubernetes.io.namespace=etl",
                       "--bound-claim", "kubernetes.io.namespace=etl-*",
                       "--bound-subject", "system:serviceaccount:etl:*", "--ttl", "10m")
    assert code == 0 and "created JWT role 'etl-worker'" in err, err


def _login(reg: Registry, token: str) -> str:
    sessions = JwtSessions(JwtStore(reg.store, reg.sealer), AccessStore(reg.store, reg.sealer))
    return JwtLogin(sessions).login(token).name


def test_issuers_and_roles_on_the_database(home: Path, tmp_path: Path, key: Key,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _configure(capsys, tmp_path)
    code, out, _ = run(capsys, "auth", "jwt", "role", "get", "etl-worker")
    assert code == 0
    assert json.loads(out) == {
        "issuer": "k8s", "token_policies": ["etl-read"], "token_ttl": "10m",
        "bound_subject": "system:serviceaccount:etl:*",
        "bound_claims": {"kubernetes.io.namespace": ["etl", "etl-*"]}}
    code, out, _ = run(capsys, "auth", "jwt", "issuer", "ls")
    assert code == 0 and "k8s" in out and "(kept in the record)" in out and "ES256" in out
    code, out, _ = run(capsys, "auth", "jwt", "role", "ls", "--json")
    assert [r["name"] for r in json.loads(out)] == ["etl-worker"]
    reg = Registry(Settings(home=home))
    try:
        assert _login(reg, key.sign(claims())) == \
            "jwt:etl-worker:system:serviceaccount:etl:worker"
        assert verify(reg).ok
    finally:
        reg.close()
    code, _, err = run(capsys, "auth", "jwt", "issuer", "rm", "k8s", "--yes")
    assert code != 0 and "used by role(s) etl-worker" in err
    code, _, err = run(capsys, "policies", "rm", "etl-read", "--yes")
    assert code != 0 and "used by JWT role(s) etl-worker" in err
    code, _, err = run(capsys, "auth", "jwt", "role", "rm", "etl-worker", "--yes")
    assert code == 0, err
    code, _, err = run(capsys, "auth", "jwt", "role", "get", "etl-worker")
    assert code != 0 and "no JWT role named 'etl-worker'" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["issuer", "put", "k8s", "--issuer", ISS, "--audience", AUD],
     "give exactly one of jwks_url"),
    (["issuer", "put", "k8s", "--issuer", ISS, "--jwks-url", "ftp://x", "--audience", AUD],
     "$.jwks_url: must be an http(s) URL"),
    (["issuer", "put", "k8s", "--issuer", ISS, "--jwks-url", "https://x/jwks"],
     "$.audiences: is required"),
    (["role", "put", "r", "--issuer", "k8s", "--policy", "etl-read"],
     "a role must bind the subject or a claim"),
    (["role", "put", "r", "--issuer", "k8s", "--policy", "etl-read", "--bound-claim", "x"],
     "--bound-claim 'x': use PATH=GLOB"),
    (["role", "put", "r", "--issuer", "k8s", "--bound-subject", "x", "--ttl", "2d",
      "--policy", "p"], "$.token_ttl: must be a duration from 1s to 12h"),
    (["role", "put", "r", "--issuer", "nobody", "--bound-subject", "x", "--policy", "p"],
     "names the issuer 'nobody', which does not exist"),
])
def test_bad_input_names_the_option_or_path(home: Path, capsys: pytest.CaptureFixture[str],
                                            argv: list[str], message: str) -> None:
    code, _, err = run(capsys, "auth", "jwt", *argv)
    assert code != 0 and message in err, err


def test_a_private_or_symmetric_key_is_refused(home: Path, tmp_path: Path, key: Key,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from jwt.algorithms import ECAlgorithm

    private = {**json.loads(ECAlgorithm.to_jwk(key.private)), "kid": "k"}
    (tmp_path / "private.json").write_text(json.dumps({"keys": [private]}))
    code, _, err = run(capsys, "auth", "jwt", "issuer", "put", "k8s", "--issuer", ISS,
                       "--jwks-file", str(tmp_path / "private.json"), "--audience", AUD)
    assert code != 0 and "$.jwks.keys[0]: is a private key" in err
    assert private["d"] not in err
    (tmp_path / "oct.json").write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0",
                                                             "kid": "s"}]}))
    code, _, err = run(capsys, "auth", "jwt", "issuer", "put", "k8s", "--issuer", ISS,
                       "--jwks-file", str(tmp_path / "oct.json"), "--audience", AUD,
                       "--algorithm", "RS256")
    assert code != 0 and "symmetric 'oct' key is never accepted" in err
    code, _, err = run(capsys, "auth", "jwt", "issuer", "put", "k8s", "--file", "-",
                       "--audience", AUD)
    assert code != 0 and "--file and --audience were both given" in err


def test_issuers_and_roles_through_the_server(home: Path, tmp_path: Path, key: Key,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    code, admin, _ = run(capsys, "server", "init")
    assert code == 0
    reg = Registry(Settings(home=home))
    try:
        with serve(reg) as url:
            monkeypatch.delenv("BLOCKS_HOME", raising=False)
            monkeypatch.setenv("BLOCKS_API_URL", url)
            monkeypatch.setenv("BLOCKS_API_TOKEN", admin.strip())
            _configure(capsys, tmp_path)
            code, out, _ = run(capsys, "auth", "jwt", "issuer", "get", "k8s")
            assert code == 0 and json.loads(out)["algorithms"] == ["ES256"]
            code, out, _ = run(capsys, "auth", "jwt", "role", "ls")
            assert code == 0 and "etl-worker" in out
            monkeypatch.setenv("BLOCKS_API_TOKEN", "blk_" + "A" * 43)
            code, _, err = run(capsys, "auth", "jwt", "role", "ls")
            assert code != 0 and "not valid" in err
        assert _login(reg, key.sign(claims())).startswith("jwt:etl-worker:")
    finally:
        reg.close()


def test_issuers_and_roles_survive_a_backup_and_restore(
    home: Path, tmp_path: Path, key: Key, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(capsys, tmp_path)
    source = Registry(Settings(home=home))
    target = new_registry(tmp_path / "target")
    try:
        before = JwtStore(source.store, source.sealer).config()
        made = write_backup(source, tmp_path / "b.bkp")
        assert made.counts["jwt-config"] == 2
        read_backup(target, tmp_path / "b.bkp")
        assert JwtStore(target.store, target.sealer).config() == before
        report = verify(target)
        assert report.ok, report.problems
        assert _login(target, key.sign(claims())).startswith("jwt:etl-worker:")
    finally:
        source.close()
        target.close()
