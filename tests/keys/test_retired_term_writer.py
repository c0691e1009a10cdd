"""After 'keys retire', a writer that cached the retired term refreshes and succeeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from blocks import Registry, Secret, Settings
from blocks.key_management import KeyManager
from blocks.pools import WorkPool


def retire_first_term(settings: Settings) -> None:
    other = Registry(settings)
    keys = KeyManager(other)
    keys.rotate()
    keys.rewrap()
    keys.retire(1)
    other.close()


def test_writer_with_a_cached_retired_term_saves(registry: Registry) -> None:
    registry.save(Secret(value="one"), "api")
    WorkPool(name="proc", type="process").save(registry=registry)
    assert registry.keyring.current_term == 1  # cached for keyring_cache_seconds

    retire_first_term(registry.settings)

    saved = registry.save(Secret(value="two"), "api", overwrite=True)
    assert (saved.version, saved.term) == (2, 2)
    assert registry.rename("secret/api", "api-2").name == "api-2"
    pool = WorkPool.load("proc", registry=registry)
    pool.description = "after retire"
    assert pool.save(registry=registry).version == 2
    assert Registry(registry.settings).load("secret/api-2").get() == "two"


def test_writer_process_survives_retire_in_another_process(blocks_home: Path) -> None:
    settings = Settings(home=blocks_home)
    reg = Registry(settings)
    reg.save(Secret(value="one"), "api")
    reg.close()
    env = {**os.environ, "BLOCKS_HOME": str(blocks_home)}
    code = (
        "import sys\n"
        "from blocks import Registry, Secret\n"
        "reg = Registry()\n"
        "reg.save(Secret(value='w1'), 'api', overwrite=True)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "print(reg.save(Secret(value='w2'), 'api', overwrite=True).term, flush=True)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "ready"
        retire_first_term(settings)
        out, err = writer.communicate("go\n", timeout=60)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert out.strip() == "2" and "ConflictError" not in err
    check = Registry(settings)
    assert check.load("secret/api").get() == "w2"
    check.close()
