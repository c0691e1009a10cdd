"""Ctrl-C during a large apply: one clean "interrupted" outcome, state and registry agree.

Terraform answers an interrupt by asking the provider to stop (``StopProvider``) and waiting
for the calls in flight. The interrupt goes to the whole process group, as a terminal's Ctrl-C
does, so the launched provider receives it too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = [pytest.mark.terraform, pytest.mark.tf_launcher]

COUNT = 300
CONFIG = f"""
resource "blocks_secret" "s" {{
  count = {COUNT}
  name  = "s${{count.index}}"
  value = "value-${{count.index}}"
}}
"""


def test_interrupting_an_apply_stops_cleanly_and_state_matches_the_registry(
        tf: Terraform, tf_registry: Registry) -> None:
    tf.write(CONFIG)
    proc = subprocess.Popen(
        [str(tf.binary.path), "apply", "-auto-approve", "-no-color"], cwd=tf.workdir,
        env=tf.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    assert proc.stdout is not None
    lines, created = [], 0
    try:
        for line in proc.stdout:
            lines.append(line)
            created += "Creation complete" in line
            if created == 20:
                os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: terraform + plugin
                break
        lines += proc.stdout.readlines()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = "".join(lines)
    assert created == 20, out
    assert code == 1, out
    assert "Interrupt received" in out, out
    for crash in ("Plugin did not respond", "rpc error", "plugin exited", "panic"):
        assert crash not in out, out
    # Terraform's own "execution halted" for each resource it did not start (it says so with
    # any provider); from the provider, at most "Interrupted" for a call that came too late.
    assert set(re.findall(r"Error: (.*)", out)) <= {"execution halted", "Interrupted"}, out
    state = json.loads((tf.workdir / "terraform.tfstate").read_text())
    in_state = {i["attributes"]["name"]: i["attributes"]["version"]
                for r in state["resources"] for i in r["instances"]}
    in_registry = {b.name: b.current_version for b in tf_registry.list("secret")
                   if b.name != "terraform-fingerprint-key"}
    assert 20 <= len(in_state) < COUNT
    assert in_state == in_registry
    for name in in_registry:  # every stored version is whole: it decrypts to its value
        assert tf_registry.load(f"secret/{name}").get() == f"value-{name[1:]}"
    assert tf.blocks("verify").returncode == 0
