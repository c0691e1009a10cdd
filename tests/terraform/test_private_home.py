"""The Terraform provider, creating the registry first, makes BLOCKS_HOME 0700 and the database
0600 under a permissive umask, as the CLI and the Python API do."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform


def test_provider_creates_a_private_home_and_database_whatever_the_umask(tf: Terraform) -> None:
    shutil.rmtree(tf.home)  # the fixture's ready-made registry: here the provider makes it
    tf.write('provider "blocks" {\n  create_registry = true\n}\n'
             'resource "blocks_secret" "s" {\n  name  = "s"\n  value = "v"\n}\n')
    assert not tf.home.exists()
    old = os.umask(0)  # inherited by terraform and the provider it starts
    try:
        tf.apply()
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tf.home, *tf.home.iterdir())}
    assert modes[tf.home.name] == 0o700
    assert modes["blocks.db"] == 0o600 and modes["master.key"] == 0o600
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes
