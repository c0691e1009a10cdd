"""Imports go one way: the data path and the pools never import rotation, mirrors, the
Prefect bridge or the CLI, not even inside a function and not even for a type annotation
(``if TYPE_CHECKING:``); they call hooks (``blocks.hooks``) and name the types they share with
an upper layer from a lower module (``blocks.rotation_types``)."""

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
         "keys", "types", "remote", "access", "rotation_types"]
UPPER = ("blocks.rotation", "blocks.integrations", "blocks.cli", "blocks.backup", "blocks.server")


def imported(path: Path) -> set[str]:
    """Every module ``path`` names in an import: at the top, inside a function, under
    ``if TYPE_CHECKING:``, or as a literal ``importlib.import_module("...")`` argument."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def within(name: str, packages: tuple[str, ...]) -> bool:
    """``name`` is one of ``packages`` or inside one (``blocks.rotation_types`` is not inside
    ``blocks.rotation``)."""
    return any(name == p or name.startswith(p + ".") for p in packages)


def lower_modules() -> list[Path]:
    out: list[Path] = []
    for entry in LOWER:
        path = ROOT / entry
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


@pytest.mark.parametrize("module", lower_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_lower_layers_never_import_upper_ones(module: Path) -> None:
    upward = sorted(n for n in imported(module) if within(n, UPPER))
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
    upward = sorted(n for n in imported(module) if within(n, ("blocks.cli",)))
    assert upward == [], f"{module.relative_to(ROOT)} imports {upward}: move what it needs down"


def test_only_the_cli_imports_the_server() -> None:
    """``blocks server`` is an upper layer: rotation, the bridges, verify and the key tools
    (everything but the CLI that runs it) never import it."""
    importers = sorted(
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
        if not p.is_relative_to(ROOT / "server") and not p.is_relative_to(ROOT / "cli")
        and any(within(n, ("blocks.server",)) for n in imported(p))
    )
    assert importers == [], f"{importers} import blocks.server: it sits on top, like the CLI"


def test_an_annotation_only_import_counts(tmp_path: Path) -> None:
    """A type named under ``if TYPE_CHECKING:`` still ties the lower layer to the upper one
    (its signatures change when the upper one does): the check sees it."""
    module = tmp_path / "lower.py"
    module.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n"
                      "    from blocks.rotation.engine import Rotation\n"
                      "    from blocks import cli\n")
    assert sorted(n for n in imported(module) if within(n, UPPER)) == [
        "blocks.cli", "blocks.rotation.engine", "blocks.rotation.engine.Rotation"]
