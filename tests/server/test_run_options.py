"""``blocks server run`` refuses unsafe or broken options before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks.cli.main import main
from blocks.errors import ConfigurationError
from tests.server_process import make_tls, require_server_extra

pytestmark = pytest.mark.usefixtures("_server_extra")


@pytest.fixture
def _server_extra() -> None:
    require_server_extra()


def options(**kw: object):  # type: ignore[no-untyped-def]
    from blocks.server.runner import ServeOptions

    return ServeOptions(**kw)  # type: ignore[arg-type]


def check(**kw: object) -> None:
    from blocks.server.runner import check as check_options

    check_options(options(**kw))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "[::1]"])
def test_plain_http_on_loopback_is_allowed(host: str) -> None:
    check(host=host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "blocks.example.org"])
def test_plain_http_elsewhere_needs_tls_or_insecure(host: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check(host=host)
    message = str(info.value)
    assert f"refusing plain HTTP on {host}" in message
    assert "--tls-cert" in message and "--tls-key" in message and "--insecure" in message
    check(host=host, insecure=True)


def test_tls_files_go_together_and_must_load(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    check(host="0.0.0.0", tls_cert=tls.cert, tls_key=tls.key)
    with pytest.raises(ConfigurationError, match="--tls-cert needs --tls-key too"):
        check(tls_cert=tls.cert)
    with pytest.raises(ConfigurationError, match="--tls-key needs --tls-cert too"):
        check(tls_key=tls.key)
    with pytest.raises(ConfigurationError, match=r"--tls-key .*missing\.pem: no such file"):
        check(tls_cert=tls.cert, tls_key=tmp_path / "missing.pem")
    other = make_tls(tmp_path / "other")
    with pytest.raises(ConfigurationError) as info:
        check(tls_cert=tls.cert, tls_key=other.key)
    assert "do not load as a certificate chain and its private key" in str(info.value)
    # The key's content is never in the message.
    assert other.key.read_text().splitlines()[1] not in str(info.value)


def test_ports_and_workers() -> None:
    with pytest.raises(ConfigurationError, match="--port 70000 is not a TCP port"):
        check(port=70000)
    with pytest.raises(ConfigurationError, match="--workers 0: give 1 or more"):
        check(workers=0)
    with pytest.raises(ConfigurationError, match=r"--port 0 .* needs --workers 1"):
        check(port=0, workers=2)


def test_cli_names_both_flags_and_exits_1(capsys: pytest.CaptureFixture[str],
                                          blocks_home: Path) -> None:
    assert main(["server", "run", "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refusing plain HTTP on 0.0.0.0")
    assert "--tls-cert and --tls-key, or --insecure" in err
    assert not (blocks_home / "blocks.db").exists()  # nothing was opened


def test_server_group_alone_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server"]) == 0
    out = capsys.readouterr().out
    assert "run" in out
