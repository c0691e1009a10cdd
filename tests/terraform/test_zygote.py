"""The zygote that forks the Terraform tests' provider processes (``zygote.py``): each child
becomes exactly what ``python -m blocks_terraform --dev`` started by the test would be (its
environment, working directory, ``sys.path`` with the test's ``PYTHONPATH``, temporary
directory), serves the provider, and stops when the test stops it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_process import run_cli
from tests.terraform import zygote
from tests.terraform.reattach import ProviderServer


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forking on, whatever this run's ``BLOCKS_TEST_TF_ZYGOTE`` says."""
    monkeypatch.delenv("BLOCKS_TEST_TF_ZYGOTE", raising=False)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env.update(BLOCKS_HOME=str(tmp_path / "home"), **extra)
    return env


@pytest.mark.usefixtures("forking")
def test_a_child_takes_the_tests_environment_directory_and_path(tmp_path: Path) -> None:
    work, extra, tmp = tmp_path / "work", tmp_path / "extra", tmp_path / "tmp"
    for directory in (work, extra, tmp):
        directory.mkdir()
    env = _env(tmp_path, PYTHONPATH=str(extra), TMPDIR=str(tmp), BLOCKS_TEST_MARKER="one")
    with (tmp_path / "err").open("w") as err:
        child = zygote.Zygote.get().spawn(work, env, err, probe=True)
    seen = json.loads(child.stdout.read())
    child.stdout.close()
    assert seen["env"] == env  # exactly the test's: nothing of the zygote's own is left
    assert seen["cwd"] == str(work)
    assert seen["path"][:2] == [str(work), str(extra)]  # as `python -m` with PYTHONPATH
    assert seen["tmp"] == str(tmp)
    child.wait(timeout=10)
    assert child.poll() is not None


@pytest.mark.usefixtures("forking")
def test_a_forked_provider_serves_and_stops(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    server = ProviderServer(work, tmp_path / "provider.log")
    try:
        value = server.reattach(_env(tmp_path))
        first = server._process
        assert isinstance(first, zygote.Forked)
        config = json.loads(value)["registry.terraform.io/blocks-registry/blocks"]  # go-plugin
        assert config["Pid"] == first.pid
        assert "/blocks-tfp-" in config["Addr"]["String"]  # its socket: in the test's TMPDIR
        assert Path(config["Addr"]["String"]).exists()
        assert first.poll() is None
        # Another environment: the first child stops and a second one serves.
        server.reattach(_env(tmp_path, BLOCKS_TEST_MARKER="second"))
        assert first.poll() is not None
        second = server._process
        assert second is not first and second.poll() is None
    finally:
        server.stop()
    assert second.poll() is not None


def test_the_zygote_stops_the_children_left_running_when_its_test_process_ends(
        tmp_path: Path) -> None:
    """A provider no test stopped does not outlive the pytest process that started it."""
    own = zygote.Zygote()  # not the shared one: this test ends it
    work = tmp_path / "work"
    work.mkdir()
    with (tmp_path / "err").open("w") as err:
        child = own.spawn(work, _env(tmp_path), err)
    try:
        seen = b""
        while b"TF_REATTACH_PROVIDERS=" not in seen:  # dev mode's lines: it is serving
            line = child.stdout.readline()
            assert line, seen
            seen += line
        assert child.poll() is None
        own.stop()  # what the pytest process's exit does (atexit, or its pipe closing)
        child.wait(timeout=10)
    finally:
        child.kill()
        child.stdout.close()


@pytest.mark.usefixtures("forking")
def test_interpreter_settings_other_than_the_path_need_a_new_interpreter() -> None:
    env = dict(os.environ)
    assert zygote.enabled(env)
    assert zygote.enabled({**env, "PYTHONPATH": "/elsewhere"})
    for name, value in (("PYTHONHASHSEED", "123"), ("PYTHONDEVMODE", "1")):
        if os.environ.get(name) != value:
            assert not zygote.enabled({**env, name: value})


@pytest.mark.usefixtures("forking")
def test_a_zygote_that_answers_before_the_request_call_returns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under load the zygote can read the request, fork, answer and close before the test
    side's send returns; the test side must then send nothing more (CI: BrokenPipeError)."""
    import select
    import socket
    import time

    real = socket.send_fds

    def send_then_fall_behind(sock: socket.socket, *args: object, **kwargs: object) -> int:
        sent = real(sock, *args, **kwargs)  # type: ignore[arg-type]
        select.select([sock], [], [], 10)  # the zygote's answer has arrived ...
        time.sleep(0.3)  # ... and it has closed the connection
        return sent

    monkeypatch.setattr(socket, "send_fds", send_then_fall_behind)
    work = tmp_path / "work"
    work.mkdir()
    with (tmp_path / "err").open("w") as err:
        child = zygote.Zygote.get().spawn(work, _env(tmp_path), err, probe=True)
    assert json.loads(child.stdout.read())["cwd"] == str(work)
    child.stdout.close()
    child.wait(timeout=10)


@pytest.mark.usefixtures("forking")
def test_a_forked_cli_run_answers_as_a_new_interpreter_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``tests/cli_process.run_cli``: the same exit codes, output, error and input handling
    from a fork of the zygote as from ``python -m blocks.cli`` started anew."""
    monkeypatch.delenv("BLOCKS_TEST_CLI_ZYGOTE", raising=False)
    runs = [(["init"], None), (["save", "secret/api", "-f", "-"], '{"value": "pw-1"}'),
            (["ls", "--json"], None), (["inspect", "secret/missing"], None),
            (["save", "secret/bad", "-f", "-"], "{not json"), (["nonsense-command"], None),
            (["--help"], None)]
    answers = {}
    for mode in ("1", "0"):
        monkeypatch.setenv("BLOCKS_TEST_CLI_ZYGOTE", mode)
        env = _env(tmp_path / mode)
        answers[mode] = [run_cli(argv, env=env, input=data, cwd=tmp_path)
                         for argv, data in runs]
    forked, fresh = answers["1"], answers["0"]
    assert [r.returncode for r in forked] == [r.returncode for r in fresh] == [0, 0, 0, 1, 1, 2, 0]
    for a, b in zip(forked, fresh, strict=True):
        assert (a.stdout, a.stderr) == (b.stdout, b.stderr) or a.args[3] in ("init", "ls")
    assert json.loads(forked[2].stdout)[0]["name"] == "api"
    assert "pw-1" not in "".join(r.stdout + r.stderr for r in forked)


@pytest.mark.usefixtures("forking")
def test_a_forked_cli_run_past_its_timeout_is_killed(tmp_path: Path) -> None:
    env = _env(tmp_path)
    run_cli(["init"], env=env, check=True)
    # `server run` serves until stopped: the timeout must end it.
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(["server", "run", "--port", "0"], env=env, timeout=3)
