"""Two ``blocks rotate --due`` at once on one PostgreSQL rotate each block exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.rotation import Rotation, RotationPolicy, rotation_events

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
COUNT = 40


def test_two_concurrent_due_runs_rotate_each_block_once(blocks_home: Path, pg_url: str) -> None:
    reg = Registry(Settings(home=blocks_home, database_url=pg_url))
    rot = Rotation(reg)
    refs = []
    for i in range(COUNT):
        Secret(value=f"initial-value-{i:04d}").save(f"s{i}", registry=reg)
        rot.set_policy(f"secret/s{i}", RotationPolicy(rotator="generated", interval="1d"))
        refs.append(f"secret/s{i}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env.update(BLOCKS_HOME=str(blocks_home), BLOCKS_DATABASE_URL=pg_url)
    procs = [subprocess.Popen([sys.executable, "-m", "blocks.cli", "rotate", "--due", "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    print("rotated per process:", [sum(o["status"] == "rotated" for o in json.loads(out))
                                   for out, _ in outputs])
    rotated = [o["ref"] for out, _ in outputs for o in json.loads(out) if o["status"] == "rotated"]
    assert sorted(rotated) == sorted(refs)  # each exactly once, across both processes
    for ref in refs:
        promotes = [e for e in rotation_events(ref, registry=reg) if e.step == "promote"]
        assert len(promotes) == 1
        assert reg.stages(ref) == {"current": 2, "previous": 1}
    reg.close()
