"""``BLOCKS_API_CA_FILE``: the client trusts a private CA for the blocks server's certificate,
for those connections only, without ``SSL_CERT_FILE``. A real ``blocks server run`` with a
certificate made here (``tests/server_process.py`` ``make_tls``); nothing is mocked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blocks import Secret
from blocks.errors import ConfigurationError, ServerUnavailable
from tests.server_process import (
    blocks_cli,
    init_server,
    make_tls,
    remote_registry,
    require_server_extra,
    server_env,
    start_server,
)

VALUE = "ca-file-value-never-logged"


@pytest.fixture(autouse=True)
def _server_extra() -> None:
    require_server_extra()


def test_the_client_trusts_the_ca_file_for_the_server_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = make_tls(tmp_path / "tls")
    other = make_tls(tmp_path / "other")  # a CA that did not sign the server's certificate
    env = server_env(home=str(tmp_path / "home"))
    token = init_server(env)
    args = ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    with start_server(env, tmp_path / "srv", args=args, ca_file=tls.ca_cert) as server:
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.setenv("SSL_CERT_FILE", str(other.ca_cert))
        # Without the setting the process-wide bundle decides, and it does not hold the CA:
        # refused, naming the server and the setting that fixes it.
        with pytest.raises(ServerUnavailable) as refused:
            remote_registry(server.url, token).list()
        message = str(refused.value)
        assert server.url in message and "BLOCKS_API_CA_FILE" in message
        assert token not in message
        # With it, the server's connections trust that file (SSL_CERT_FILE still names the
        # other CA: it is not needed, and not used for the blocks server).
        client = remote_registry(server.url, token, api_ca_file=tls.ca_cert)
        client.save(Secret(value=VALUE), "ca-file")
        assert client.load("secret/ca-file").get() == VALUE
        # Only the file's CAs: another CA's bundle is refused even where the default
        # bundle would have been consulted.
        with pytest.raises(ServerUnavailable, match="BLOCKS_API_CA_FILE"):
            remote_registry(server.url, token, api_ca_file=other.ca_cert).list()
        # The CLI reads it from the environment, with no SSL_CERT_FILE at all.
        cli_env = {k: v for k, v in server_env(
            api_url=server.url, api_token=token, api_ca_file=str(tls.ca_cert),
        ).items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        listed = json.loads(blocks_cli(["ls", "--json"], cli_env).stdout)
        assert [b["name"] for b in listed] == ["ca-file"]
    assert VALUE not in server.stdout() + server.stderr()


def test_a_bad_ca_file_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    damaged = tmp_path / "damaged.pem"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    cases = {
        tmp_path / "missing.pem": "does not exist",
        tmp_path: "is a directory",
        tls.key: "holds no PEM certificate",  # a private key: never echoed
        damaged: "holds a certificate that does not load",
    }
    for path, reason in cases.items():
        with pytest.raises(ConfigurationError) as info:
            remote_registry("https://127.0.0.1:9", "t0ken-never-shown", api_ca_file=path)
        message = str(info.value)
        assert f"BLOCKS_API_CA_FILE {str(path)!r} {reason}" in message, message
        assert "PEM file of the CA" in message and "t0ken-never-shown" not in message
        assert "PRIVATE KEY" not in message
    # The CLI says the same and exits non-zero, before any network call.
    env = server_env(api_url="https://127.0.0.1:9", api_token="t0ken-never-shown",
                     api_ca_file=str(tmp_path / "missing.pem"))
    proc = blocks_cli(["ls"], env, check=False)
    assert proc.returncode != 0
    assert "BLOCKS_API_CA_FILE" in proc.stderr and "does not exist" in proc.stderr
    assert "t0ken-never-shown" not in proc.stderr + proc.stdout
