"""Imports go one way: the data path and the pools never import rotation, mirrors, the
Prefect bridge or the CLI, not even inside a function (they call hooks, ``blocks.hooks``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "blocks"
LOWER = ["core.py", "_persistence.py", "_compat.py", "_models.py", "_async.py", "codec.py",
         "registry.py", "_registry_keys.py", "_registry_stages.py", "_registry_services.py",
         "_registry_documents.py", "_registry_recovery.py", "registry_protocol.py", "wire.py",
         "parsing.py", "_saving.py", "audit_actor.py", "audit_trail.py", "_registry_audit.py",
         "references.py", "catalog.py", "hooks.py", "settings.py", "pools", "store", "crypto",
         "keys", "types", "remote", "access"]
UPPER = ("blocks.rotation", "blocks.integrations", "blocks.cli", "blocks.backup", "blocks.server")


def imported(path: Path) -> set[str]:
    """Modules ``path`` imports at run time (``if TYPE_CHECKING:`` blocks are annotations)."""
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def lower_modules() -> list[Path]:
    out: list[Path] = []
    for entry in LOWER:
        path = ROOT / entry
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


@pytest.mark.parametrize("module", lower_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_lower_layers_never_import_upper_ones(module: Path) -> None:
    upward = sorted(n for n in imported(module) if n.startswith(UPPER))
    assert upward == [], f"{module.relative_to(ROOT)} imports {upward}: register a hook instead"


def bridge_modules() -> list[Path]:
    """Rotation and the integrations, but not the flow a Prefect worker loads: like the CLI,
    it is an entry point (it runs ``blocks rotate --due``)."""
    flows = ROOT / "integrations" / "prefect" / "flows"
    return [p for d in ("rotation", "integrations", "backup")
            for p in sorted((ROOT / d).rglob("*.py"))
            if flows not in p.parents]


@pytest.mark.parametrize("module", bridge_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_rotation_and_the_bridges_never_import_the_cli(module: Path) -> None:
    upward = sorted(n for n in imported(module) if n.startswith("blocks.cli"))
    assert upward == [], f"{module.relative_to(ROOT)} imports {upward}: move what it needs down"


def test_only_the_cli_imports_the_server() -> None:
    """``blocks server`` is an upper layer: rotation, the bridges, verify and the key tools
    (everything but the CLI that runs it) never import it."""
    importers = sorted(
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
        if not p.is_relative_to(ROOT / "server") and not p.is_relative_to(ROOT / "cli")
        and any(n == "blocks.server" or n.startswith("blocks.server.") for n in imported(p))
    )
    assert importers == [], f"{importers} import blocks.server: it sits on top, like the CLI"
