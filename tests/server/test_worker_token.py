"""A worker's flow run with only ``BLOCKS_API_URL`` and a read token scoped to its
deployment's blocks (issue 20, point 4 and the journey of point 6): the real default
authenticator, a token made by ``blocks server init``'s store, a separate Python process with
no database URL and no master key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from blocks import Registry, Secret
from blocks.access import policies
from blocks.access.store import AccessStore
from tests.server_fixtures import serve

FLOW = """
from blocks import Secret
from blocks.errors import Forbidden
print(Secret.load("etl-db").value.get_secret_value())
for action in (lambda: Secret.load("admin"), lambda: Secret(value="x").save("etl-db",
               overwrite=True)):
    try:
        action()
    except Forbidden as exc:
        print("refused:", exc)
"""


def test_a_flow_run_reads_its_blocks_and_nothing_else(
    served_registry: Registry, tmp_path: Path
) -> None:
    served_registry.save(Secret(value="etl-password"), "etl-db")
    served_registry.save(Secret(value="admin-password"), "admin")
    access = AccessStore(served_registry.store, served_registry.sealer)
    access.initialize()
    access.put_policy("nightly-etl", policies.parse(
        "nightly-etl", {"blocks": {"secret/etl-*": ["read"]}}))
    token, _ = access.create_token("nightly-etl-runs", ["nightly-etl"], owner="etl")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOCKS_", "VAULT_",
                                                                     "AWS_"))}
    with serve(served_registry) as url:  # create_app's default: the token authenticator
        env.update(HOME=str(tmp_path / "worker"), BLOCKS_HOME=str(tmp_path / "worker" / "b"),
                   BLOCKS_API_URL=url, BLOCKS_API_TOKEN=token)
        done = subprocess.run([sys.executable, "-c", FLOW], env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "etl-password"
    assert "'read' capability on block 'secret/admin'" in lines[1]
    assert "'write' capability on block 'secret/etl-db'" in lines[2]
    assert "admin-password" not in done.stdout + done.stderr
    assert token[4:] not in done.stdout + done.stderr
    assert not (tmp_path / "worker" / "b").exists()  # no registry, no key on the worker
