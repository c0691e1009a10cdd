"""Install the provider into a local filesystem mirror so ``terraform init`` works offline.

Layout (Terraform's "unpacked" mirror layout)::

    <mirror>/python.env                       which Python runs the provider (ours, not hashed)
    <mirror>/registry.terraform.io/blocks-registry/blocks/0.1.0/<os>_<arch>/
        terraform-provider-blocks_v0.1.0      the launcher, always the same bytes

Terraform's lock file pins the hash of each package directory. The directory holds only the
launcher, whose bytes never change, so upgrading ``blocks-registry`` (or moving the venv) never
invalidates ``.terraform.lock.hcl``. The launcher finds the Python through
``$BLOCKS_TERRAFORM_PYTHON`` or ``<mirror>/python.env``, which lies outside the hashed directory.
:data:`PROVIDER_VERSION` changes only when the provider's schema changes incompatibly.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

HOST, NAMESPACE, TYPE = "registry.terraform.io", "blocks-registry", "blocks"
SOURCE = f"{HOST}/{NAMESPACE}/{TYPE}"
PROVIDER_VERSION = "0.1.0"
PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")
EXECUTABLE = f"terraform-provider-{TYPE}_v{PROVIDER_VERSION}"

LAUNCHER = b"""#!/bin/sh
# Launcher of the Blocks Terraform provider (blocks-registry/blocks).
# These bytes never change, so the hashes in .terraform.lock.hcl stay valid across upgrades
# of blocks-registry. The Python that runs the provider is $BLOCKS_TERRAFORM_PYTHON, or else
# the one named in python.env at the root of this filesystem mirror, which
# `blocks terraform install` writes.
if [ -z "${BLOCKS_TERRAFORM_PYTHON:-}" ]; then
  self=$(readlink -f "$0")
  . "${self%/*/*/*/*/*/*}/python.env"
fi
exec "$BLOCKS_TERRAFORM_PYTHON" -m blocks_terraform "$@"
"""

LAUNCHER_HASH = "h1:Z4I+oFr7jfR1ZBoNr6bGtqdDie0QIK1zyAv069et51s="
"""What every ``.terraform.lock.hcl`` records for this provider, on every machine and platform.
A test pins it: changing :data:`LAUNCHER` invalidates every user's lock file."""


@dataclass(frozen=True)
class Installed:
    """Where things went.

    Attributes:
        mirror: the filesystem mirror directory.
        launchers: the launcher of each platform.
        python: the Python interpreter the launcher runs.
        cli_config: the CLI configuration text.
        cli_config_path: where it was written (``None`` when only printed).
    """

    mirror: Path
    launchers: tuple[Path, ...]
    python: str
    cli_config: str
    cli_config_path: Path | None


def cli_config(mirror: Path) -> str:
    """Terraform CLI configuration using ``mirror`` for this provider and the network for
    every other one."""
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl(str(mirror))}\n"
        f"    include = [{_hcl(SOURCE)}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{_hcl(SOURCE)}]\n"
        "  }\n"
        "}\n"
    )


def install(
    mirror: Path,
    *,
    python: str | None = None,
    cli_config_path: Path | None = None,
) -> Installed:
    """Put the launcher into ``mirror`` and point it at ``python``.

    Args:
        mirror: filesystem mirror directory (created if needed).
        python: interpreter with ``blocks-registry[terraform]`` installed; this one by default.
        cli_config_path: where to write the CLI configuration; not written when ``None``.

    Returns:
        What was installed, including the CLI configuration text.
    """
    mirror = mirror.expanduser().absolute()
    python = python or sys.executable
    launchers = []
    for platform in PLATFORMS:
        target = mirror / HOST / NAMESPACE / TYPE / PROVIDER_VERSION / platform / EXECUTABLE
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != LAUNCHER:
            _write(target, LAUNCHER)
        target.chmod(0o755)
        launchers.append(target)
    _write(mirror / "python.env", f"BLOCKS_TERRAFORM_PYTHON={shlex.quote(python)}\n".encode())
    config = cli_config(mirror)
    if cli_config_path is not None:
        cli_config_path = cli_config_path.expanduser().absolute()
        cli_config_path.parent.mkdir(parents=True, exist_ok=True)
        _write(cli_config_path, config.encode())
    return Installed(mirror, tuple(launchers), python, config, cli_config_path)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _hcl(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
