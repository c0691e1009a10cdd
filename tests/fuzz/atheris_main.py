"""Long fuzzing runs by hand with atheris (coverage-guided), over the targets of ``targets.py``.

Usage (``pip install 'blocks-registry[fuzz]'``)::

    python -m tests.fuzz.atheris_main TARGET [-runs=N ...]

TARGET: codec, envelope, keyring, cli-save, terraform, terraform-typed.

Any exception other than a BlocksError escapes the target and atheris stops with the input
that caused it. Not run in CI (the hypothesis tests in ``test_decoders.py`` are).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from typing import Any


def _target(name: str, home: str) -> Callable[[bytes], None]:
    from blocks import Registry, Settings
    from tests.fuzz import targets

    if name == "codec":
        return targets.codec_decode
    if name == "envelope":
        return targets.envelope_open
    if name == "keyring":
        return targets.KeyringTarget.create(home).unwrap
    if name == "cli-save":
        registry = Registry(Settings(home=home))
        registry.init()
        return lambda data: targets.cli_save_input(data, registry)
    if name == "terraform":
        provider = targets.terraform_provider(home)
        return lambda data: targets.terraform_json_attribute(data, provider)
    if name == "terraform-typed":
        from tests.fuzz.terraform_typed import terraform_typed_config

        provider = targets.terraform_provider(home)
        return lambda data: terraform_typed_config(data, provider)
    raise SystemExit(f"unknown target {name!r}: codec, envelope, keyring, cli-save, terraform, "
                     "terraform-typed")


def main(argv: list[str]) -> None:
    atheris: Any = __import__("atheris")
    if len(argv) < 2:
        raise SystemExit(__doc__)
    with atheris.instrument_imports(include=["blocks", "blocks_terraform", "pydantic"]):
        target = _target(argv[1], tempfile.mkdtemp(prefix="blocks-atheris-"))
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
