"""The type catalog: built-ins on demand, subclasses, and plug-ins from the entry-point group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from blocks import catalog


def test_builtins_are_all_listed_with_their_slugs() -> None:
    types = catalog.all_types()
    assert set(catalog.BUILTIN_TYPES) <= set(types)
    for slug, cls in types.items():
        assert cls.block_type_slug == slug


def test_entry_point_plugin_type_is_found_by_slug(tmp_path: Path) -> None:
    (tmp_path / "acme_blocks.py").write_text(
        "from pydantic import SecretStr\nfrom blocks import Block\n"
        "class AcmeApi(Block):\n    url: str\n    api_key: SecretStr\n"
    )
    dist = tmp_path / "acme_blocks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-blocks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[blocks.types]\nacme-api = acme_blocks:AcmeApi\n")
    code = (
        "import os\nfrom blocks import Block, catalog\n"
        "cls = catalog.get('acme-api')\n"
        "assert cls.__name__ == 'AcmeApi' and cls.secret_paths() == ('api_key',)\n"
        "cls(url='u', api_key='k').save('one')\n"
        "print(Block.load('acme-api/one').url)\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "BLOCKS_HOME": str(tmp_path / "home"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "u"
