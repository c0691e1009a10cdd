"""A rotation killed with SIGKILL after each step is resumed by ``blocks rotate --due`` or
rolled back by ``blocks rotate --cancel``; the block loads a working credential throughout.

Upstream is the private password-checking PostgreSQL cluster, strategy alternating-users (with
single-user the old password stops working at ``set``, by design).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Settings
from blocks.rotation import RotationPolicy, rotation_events, set_rotation
from blocks.types.database import DatabaseCredentials
from tests.cli_process import run_cli
from tests.rotation.conftest import PrivatePostgres, accepts_on

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REF = "database-credentials/app"
WORKER = """
import os, signal, sys
from blocks import Registry
from blocks.rotation import Rotation

step, moment = sys.argv[1], sys.argv[2]

def hook(s, m):
    if (s, m) == (step, moment):
        os.kill(os.getpid(), signal.SIGKILL)

Rotation(Registry(), hook=hook).rotate(sys.argv[3], force=True)
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env["BLOCKS_HOME"] = str(home)
    return env


def _blocks(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, env=_env(home), timeout=120)


@pytest.fixture
def setup(blocks_home: Path, roles: dict[str, Any]) -> Registry:
    reg = Registry(Settings(home=blocks_home))
    set_rotation(REF, RotationPolicy(rotator="postgres-password", grace="1h", options={
        "admin_block": "database-credentials/pg-admin", "strategy": "alternating-users"}),
        registry=reg)
    return reg


def _current_works(reg: Registry, pg: PrivatePostgres) -> DatabaseCredentials:
    current = reg.load(REF)
    assert isinstance(current, DatabaseCredentials)
    assert accepts_on(pg)(current), "the current credential does not work upstream"
    return current


@pytest.mark.parametrize("then", ["--due", "--cancel"])
@pytest.mark.parametrize("moment", ["upstream", "recorded"])
@pytest.mark.parametrize("step", ["create", "set", "test", "promote"])
def test_sigkill_after_each_step(
    setup: Registry, blocks_home: Path, private_postgres: PrivatePostgres,
    step: str, moment: str, then: str,
) -> None:
    before = _current_works(setup, private_postgres)
    worker = subprocess.run([sys.executable, "-c", WORKER, step, moment, REF],
                            env=_env(blocks_home), capture_output=True, text=True, timeout=120)
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    _current_works(setup, private_postgres)

    done = _blocks(blocks_home, "rotate", then, *([REF] if then == "--cancel" else []))
    completed = step == "promote" and moment == "recorded"
    if then == "--cancel" and completed:
        assert done.returncode == 1 and "nothing to cancel" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
    after = _current_works(setup, private_postgres)
    promoted = completed or then == "--due" or (step == "promote")
    assert (after.block_version != before.block_version) is promoted
    assert (after.username != before.username) is promoted
    if not promoted:
        with pytest.raises(Exception, match="no pending version"):
            setup.load(REF, stage="pending")
    events = rotation_events(REF, registry=setup)
    assert [e.step for e in events].count("promote") == (1 if promoted else 0)
    secret = after.password.get_secret_value() if after.password else ""
    assert secret not in done.stdout + done.stderr
