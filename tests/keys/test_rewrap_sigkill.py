"""A rewrap killed with SIGKILL half-way leaves every block readable; a rerun finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import Registry, Settings
from blocks.key_management import KeyManager
from blocks.store import keyops
from blocks.types.system import Secret

COUNT = 2000
ROOT = Path(__file__).resolve().parents[2]


def _rewrap_process(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "blocks.cli", "keys", "rewrap", "--batch-size", "1"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
def test_rewrap_killed_half_way_leaves_blocks_readable_and_rerun_finishes(
    blocks_home: Path,
) -> None:
    settings = Settings(home=blocks_home)
    reg = Registry(settings)
    for i in range(COUNT):
        reg.save(Secret(value=f"value-{i}"), f"s{i}")
    assert KeyManager(reg).rotate() == 2
    reg.close()
    env = {**os.environ, "BLOCKS_HOME": str(blocks_home)}

    proc = _rewrap_process(env)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line comes after the first batch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, first

    after_kill = Registry(settings)
    usage = keyops.term_usage(after_kill.store)
    assert usage.get(2, 0) > 0 and usage.get(1, 0) > 0, f"not half-way: {usage}"
    assert sum(usage.values()) == COUNT
    for i in range(COUNT):
        assert after_kill.load(f"secret/s{i}").get() == f"value-{i}"
    after_kill.close()

    rerun = _rewrap_process(env)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"rewrapped {usage[1]} data key(s) under term 2" in out
    final = Registry(settings)
    assert keyops.term_usage(final.store) == {2: COUNT}
    for i in range(COUNT):
        assert final.load(f"secret/s{i}").get() == f"value-{i}"
