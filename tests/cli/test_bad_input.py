"""Issue 13, point 9 (input side): bad input is a one-line BlocksError naming the problem.

Each case runs through the real ``blocks`` command in a subprocess and in-process; none may end
in ``internal error (...)``, and none may echo the input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.errors import ConfigurationError, ValidationError
from tests.cli_process import run_cli

MARK = "zq-unique-input-7f3"

SAVE_CASES = {
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe" + os.urandom(64), "is not UTF-8 text"),
    "deep": (b"[" * 10_000 + b"]" * 10_000, "nested more than 64 levels deep"),
    "big-integer": (b'{"value": ' + b"9" * 5_000 + b"}", "an integer with too many digits"),
    "nan": (b'{"value": NaN, "note": "' + MARK.encode() + b'"}', "NaN or Infinity"),
    "infinity": (b'{"value": 1e400}', "NaN and infinite numbers are not allowed"),
    "surrogate": (b'{"value": "\\ud800' + MARK.encode() + b'"}', "value: text holds a lone "
                                                                   "surrogate"),
    "deep-but-parsable": (b'{"value": ' + b"[" * 65 + b"]" * 65 + b"}", "nested more than 64"),
}

SETTINGS_CASES = {
    "BLOCKS_SQLITE_SYNCHRONOUS": ("bogus", "BLOCKS_SQLITE_SYNCHRONOUS (sqlite_synchronous)"),
    "BLOCKS_KEYRING_CACHE_SECONDS": ("-1", "BLOCKS_KEYRING_CACHE_SECONDS (keyring_cache_seconds)"),
    "BLOCKS_KEY_PROVIDER": ("bogus", "BLOCKS_KEY_PROVIDER (key_provider)"),
    "BLOCKS_DATABASE_URL": ("mysql://etl:pw-" + MARK + "@db/app", "unsupported database 'mysql'"),
}


def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return run_cli(argv, env=env)


def _assert_one_line_error(stderr: str, expected: str) -> None:
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "internal error" not in stderr
    assert expected in stderr
    assert MARK not in stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BLOCKS_HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "/usr/bin")}


@pytest.mark.parametrize("case", sorted(SAVE_CASES))
def test_cli_save_of_bad_input_is_a_clear_error(
    case: str, env: dict[str, str], tmp_path: Path
) -> None:
    body, expected = SAVE_CASES[case]
    path = tmp_path / "doc.json"
    path.write_bytes(body)
    result = _cli(env, "save", "secret/x", "--file", str(path))
    assert result.returncode == 1
    _assert_one_line_error(result.stderr, expected)
    stdin = subprocess.run([sys.executable, "-m", "blocks.cli", "save", "secret/x", "-f", "-"],
                           env=env, input=body, capture_output=True, timeout=60)
    assert stdin.returncode == 1
    _assert_one_line_error(stdin.stderr.decode(), expected)


@pytest.mark.parametrize("case", sorted(SAVE_CASES))
def test_in_process_save_of_bad_input_is_a_clear_error(
    case: str, blocks_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, expected = SAVE_CASES[case]
    path = tmp_path / "doc.json"
    path.write_bytes(body)
    assert main(["save", "secret/x", "--file", str(path)]) == 1
    _assert_one_line_error(capsys.readouterr().err, expected)
    assert Registry().list() == []


@pytest.mark.parametrize("value", [float("nan"), float("-inf"), 10**5_000, "\ud800",
                                   {"\udc00key": 1}],
                         ids=["nan", "-inf", "5000-digits", "surrogate", "surrogate-key"])
def test_block_with_a_value_json_cannot_hold_is_refused_on_save(
    value: object, registry: Registry
) -> None:
    with pytest.raises(ValidationError) as caught:
        Secret(value=value).save("odd", registry=registry)
    assert str(caught.value).startswith("secret/odd: invalid document: value")
    assert registry.list() == []


@pytest.mark.parametrize("variable", sorted(SETTINGS_CASES))
def test_cli_with_an_invalid_setting_names_the_variable(
    variable: str, env: dict[str, str]
) -> None:
    value, expected = SETTINGS_CASES[variable]
    result = _cli({**env, variable: value}, "ls")
    assert result.returncode == 1
    _assert_one_line_error(result.stderr, expected)


@pytest.mark.parametrize("variable", sorted(SETTINGS_CASES))
def test_in_process_invalid_setting_names_the_variable(
    variable: str, blocks_home: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    value, expected = SETTINGS_CASES[variable]
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=r"^invalid setting: ") as caught:
        Settings()
    assert expected in str(caught.value) and MARK not in str(caught.value)
    assert main(["ls"]) == 1
    _assert_one_line_error(capsys.readouterr().err, expected)


def test_explicit_mysql_url_is_refused_as_unsupported() -> None:
    with pytest.raises(ConfigurationError, match=r"unsupported database 'mysql\+pymysql'"):
        Settings(database_url="mysql+pymysql://u@h/db")
    for url in ("sqlite:///x.db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        assert Settings(database_url=url).database_url == url


def test_var_with_a_value_json_cannot_hold_is_a_clear_error(
    blocks_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pools", "create", "proc", "--type", "process"]) == 0
    capsys.readouterr()
    for var, expected in (("command=" + "[" * 5_000, "nested more than 64"),
                          ("command=NaN", "NaN or Infinity"),
                          ("command=\udcff" + MARK, "lone surrogate")):
        assert main(["pools", "render", "proc", "--var", var]) == 1
        _assert_one_line_error(capsys.readouterr().err, expected)
    assert main(["pools", "render", "proc", "--var", "command=echo [not json"]) == 0

