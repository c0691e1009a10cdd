"""Loads follow rotation without a restart; no secret in CLI output, logs or errors; plug-ins."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.codec import secret_values
from blocks.errors import ConfigurationError
from blocks.rotation import RotationPolicy, plugins, rotate, set_rotation
from tests.cli_process import run_cli
from tests.rotation.contract import all_secrets

LOOP = textwrap.dedent("""
    import sys, time
    from blocks import Secret
    seen = None
    while True:
        version = Secret.load("tok").block_version
        if version != seen:
            print(version, time.time(), flush=True)
            seen = version
        if version >= 2:
            break
""")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env["BLOCKS_HOME"] = str(home)
    return env


@pytest.fixture(params=["local", "http"])
def client_env(request: pytest.FixtureRequest, blocks_home: Path) -> Iterator[dict[str, str]]:
    """The environment of the test's CLI and loading processes: the registry under
    ``blocks_home`` itself, or a blocks server over it (``BLOCKS_API_URL`` only)."""
    if request.param == "local":
        yield _env(blocks_home)
        return
    from blocks.server.security import ADMIN, static_authenticator
    from tests.server_fixtures import serve

    served = Registry(Settings(home=blocks_home))
    with serve(served, static_authenticator(ADMIN)) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
        yield {**env, "BLOCKS_API_URL": url}
    served.close()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, env=env, timeout=120)


def test_a_process_loading_in_a_loop_sees_the_new_version(
    blocks_home: Path, client_env: dict[str, str]
) -> None:
    reg = Registry(Settings(home=blocks_home))
    Secret(value="first-value-0123456789").save("tok", registry=reg)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=reg)
    loop = subprocess.Popen([sys.executable, "-c", LOOP], env=client_env,
                            stdout=subprocess.PIPE, text=True)
    assert loop.stdout is not None
    assert loop.stdout.readline().split()[0] == "1"
    done = _cli(client_env, "rotate", "secret/tok", "--now")
    assert done.returncode == 0, done.stderr
    rotated_at = time.time()
    version, seen_at = loop.stdout.readline().split()
    loop.wait(timeout=30)
    assert version == "2"
    # Documented bound: none (no cache); the first load after promotion returns it.
    print(f"new version seen {float(seen_at) - rotated_at:+.3f} s after 'blocks rotate' returned")
    reg.close()


def test_no_secret_in_cli_output_or_logs(blocks_home: Path, client_env: dict[str, str]) -> None:
    reg = Registry(Settings(home=blocks_home))
    Secret(value="first-value-0123456789").save("tok", registry=reg)
    outputs = []
    for args in (["rotation", "set", "secret/tok", "--rotator", "generated", "--every", "1d",
                  "--grace", "0s"], ["rotate", "secret/tok", "--now"], ["rotate", "--due"],
                 ["rotate", "secret/tok", "--now", "--json"], ["rotation", "ls"],
                 ["rotation", "ls", "--json"], ["rotation", "show", "secret/tok", "--json"],
                 ["history", "secret/tok"], ["history", "secret/tok", "--json"]):
        done = _cli(client_env, *args)
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    secrets = all_secrets(reg, "secret/tok")
    assert len(secrets) == 3
    for secret in secrets:
        assert secret not in text
    assert "promote" in text and "cli:" in text
    reg.close()


@pytest.mark.over_http
def test_no_secret_in_debug_logs_of_a_rotation(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    Secret(value="first-value-0123456789").save("tok", registry=registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=registry)
    with caplog.at_level(logging.DEBUG):
        rotate("secret/tok", now=True, registry=registry)
    (new,) = secret_values(registry.load("secret/tok"))
    assert new not in caplog.text and "first-value-0123456789" not in caplog.text


def test_failed_rotation_exits_non_zero_and_shows_the_error(
    blocks_home: Path, client_env: dict[str, str]
) -> None:
    reg = Registry(Settings(home=blocks_home))
    Secret(value="first-value-0123456789").save("tok", registry=reg)
    set_rotation("secret/tok", RotationPolicy(rotator="vault-kv", interval="1d", options={
        "path": "x", "address": "http://127.0.0.1:9"}), registry=reg)
    done = _cli(client_env, "rotate", "--due", "--json")
    assert done.returncode == 1
    assert '"status": "failed"' in done.stdout
    ls = _cli(client_env, "rotation", "ls")
    assert "failed" in ls.stdout and "create:" in ls.stdout
    assert "first-value-0123456789" not in done.stdout + done.stderr + ls.stdout
    reg.close()


def test_rotate_usage_errors(blocks_home: Path) -> None:
    assert _cli(_env(blocks_home), "rotate").returncode == 2
    assert _cli(_env(blocks_home), "rotate", "--due", "secret/x").returncode == 2
    done = _cli(_env(blocks_home), "rotation", "set", "secret/x", "--rotator", "generated",
                "--every", "soon")
    assert done.returncode == 1 and "not a duration" in done.stderr
    done = _cli(_env(blocks_home), "rotation", "set", "secret/x", "--rotator", "generated",
                "--every", "999999999w")
    assert done.returncode == 1 and "longer than 36500d (100 years)" in done.stderr
    assert "Traceback" not in done.stderr


class UpperRotator:
    """A plug-in rotator (found through the entry-point group)."""

    name = "upper-test"
    from blocks.rotation.generated import GeneratedOptions as options_model

    def check(self, block_type: object, options: object) -> None: ...

    def create(self, ctx: object) -> object:
        from blocks.rotation.base import RotationContext, with_value

        assert isinstance(ctx, RotationContext)
        return with_value(ctx.current, "value", str(ctx.current.value.get_secret_value()).upper()
                          + "-R")  # type: ignore[attr-defined]

    def set(self, ctx: object) -> None: ...
    def test(self, ctx: object) -> None: ...
    def revoke(self, ctx: object) -> None: ...
    def cancel(self, ctx: object) -> None: ...


@pytest.mark.over_http
def test_plug_in_rotator_from_the_entry_point_group(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "blocks_upper-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: blocks-upper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[blocks.rotators]\nupper-test = tests.rotation.test_follow_and_leaks:UpperRotator\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_entry_points", None)
    assert "upper-test" in plugins.names()
    Secret(value="abc-value").save("p", registry=registry)
    set_rotation("secret/p", RotationPolicy(rotator="upper-test"), registry=registry)
    assert registry.rotation().rotate("secret/p", force=True).status == "rotated"
    assert Secret.load("p", registry=registry).get() == "ABC-VALUE-R"
    monkeypatch.setattr(plugins, "_entry_points", None)
    with pytest.raises(ConfigurationError, match="unknown rotator 'nope'"):
        plugins.get("nope")


def test_scrub_removes_every_secret_value_of_the_blocks_involved() -> None:
    from blocks import AwsCredentials
    from blocks.rotation.outcome import scrub

    creds = AwsCredentials(aws_access_key_id="AKIAEXAMPLE000000001",
                           aws_secret_access_key="very-secret-access-key-0001")
    json_secret = Secret(value={"user": "app", "password": "json-held-password-42"})
    message = scrub("IAM said: bad key very-secret-access-key-0001 and json-held-password-42",
                    [creds, json_secret, None])
    assert "very-secret-access-key-0001" not in message
    assert "json-held-password-42" not in message
    assert message.count("***") == 2
