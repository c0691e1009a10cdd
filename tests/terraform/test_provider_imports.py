"""The provider imports, before it serves calls on threads, every module its calls load.

gRPC serves Terraform's calls on a thread pool; a refresh reads several resources at once. The
rotation package and its submodules import each other, so two threads importing them for the
first time deadlock in Python's import machinery (CI saw ``internal error (_DeadlockError)`` and
``internal error (ImportError)`` on a refresh of the README's configuration). A race cannot be
made to happen on demand, so these tests check the condition that rules it out: after
``prepare()``, a whole journey of calls imports no module of Blocks.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

JOURNEY = r"""
import json, sys
from blocks_terraform.provider import BlocksProvider

provider = BlocksProvider()
provider.prepare()
runtime = provider.runtime
registry = runtime.registry  # opened under the runtime's lock, as configure does
runtime.fingerprint("x")
before = set(sys.modules)

from blocks import Secret
from blocks.rotation_types.policy import RotationPolicy
from blocks.types.database import DatabaseCredentials

Secret(value="v1").save("api-token", registry=registry)
secret = Secret.load("secret/api-token", registry=registry)
assert secret.rotation is None
DatabaseCredentials(driver="postgresql+psycopg", host="db.internal", database="reports",
                    username="reports", password="p").save("reports-db", registry=registry)
rotation = registry.rotation(None)
rotation.set_policy("database-credentials/reports-db", RotationPolicy(
    rotator="generated", options={"field": "password"}))
assert DatabaseCredentials.load("database-credentials/reports-db",
                                registry=registry).rotation is not None
rotation.rotate("database-credentials/reports-db")
registry.list()
registry.history("secret/api-token")
registry.delete("secret/api-token")
# A built-in rotator's module is loaded by name, under the rotator registry's lock.
from blocks.rotation.plugins import BUILTIN_ROTATORS
by_name = {target.partition(":")[0] for target in BUILTIN_ROTATORS.values()}
print(json.dumps(sorted(m for m in set(sys.modules) - before
                        if m.startswith("blocks") and m not in by_name)))
"""


def test_a_journey_of_calls_imports_nothing_after_prepare(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env.update(BLOCKS_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "terraform" / "provider"), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", JOURNEY], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    late = json.loads(done.stdout.strip().splitlines()[-1])
    assert late == [], (
        f"imported while serving calls, after prepare(): {late}; import them in "
        "blocks._wiring.preload (hook modules) or blocks_terraform.runtime.import_blocks")


def test_preload_imports_every_module_a_hook_loads() -> None:
    """A hook added without its module in HOOK_MODULES would race again."""
    from blocks import _wiring

    tree = ast.parse((ROOT / "blocks" / "_wiring.py").read_text())
    lazy = {node.module for fn in tree.body if isinstance(fn, ast.FunctionDef)
            for node in ast.walk(fn) if isinstance(node, ast.ImportFrom) and node.module}
    lazy.discard("blocks.integrations.prefect.hooks")  # the 'prefect' extra's, see HOOK_MODULES
    lazy.discard("blocks.remote.registry")  # httpx, only with BLOCKS_API_URL: see HOOK_MODULES
    assert lazy == set(_wiring.HOOK_MODULES)
