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
         "references.py", "catalog.py", "hooks.py", "settings.py", "_block_base.py", "pools",
         "pool_types", "store", "crypto",
         "keys", "types", "remote", "access", "rotation_types"]
UPPER = ("blocks.rotation", "blocks.integrations", "blocks.cli", "blocks.backup", "blocks.server")


def imported(path: Path, annotations: bool = True) -> set[str]:
    """Every module ``path`` names in an import: at the top, inside a function, under
    ``if TYPE_CHECKING:`` (unless ``annotations`` is false), or as a literal
    ``importlib.import_module("...")`` argument."""
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    if not annotations:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
    for node in ast.walk(tree):
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
    """Rotation, the integrations (the flows a Prefect worker loads too: they run ``blocks``
    commands in a child process) and backup."""
    return [p for d in ("rotation", "integrations", "backup")
            for p in sorted((ROOT / d).rglob("*.py"))]


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


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts:
            continue  # alembic's revisions: loaded by alembic, not imported
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(annotations: bool = True) -> dict[str, set[str]]:
    """``module -> the modules it imports`` within the package, every import counted (see
    :func:`imported`; those under ``if TYPE_CHECKING:`` unless ``annotations`` is false).
    Running ``import blocks.pools.store`` runs ``blocks/pools/__init__.py`` first, so such an
    import ties the importer to that package too (an annotation's import runs nothing: it ties
    only to the module it names). ``blocks/__init__.py`` (which every import runs) and
    ``blocks._wiring`` (the composition root it runs, where the hooks import the upper layers)
    are the top, and an import of ``blocks`` itself ties nothing."""
    files = module_files()

    def resolved(name: str) -> str:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets: set[str] = set()
        run = {resolved(n) for n in imported(path, annotations=False)}
        named = {resolved(n) for n in imported(path, annotations)} if annotations else run
        for name in run:  # each enclosing package's __init__ runs too
            parts = name.split(".")
            targets.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
        targets.update(named)
        graph[module] = {t for t in targets if t in files and t != module
                         and not module.startswith(t + ".")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    """The modules stand in floors: each imports only modules below it, by any import (at
    the top, inside a function, under ``if TYPE_CHECKING:``). A lower module that needs an
    upper one calls a hook (``blocks.hooks``) or names a Protocol of its own."""
    graph = import_graph()
    found = circles(graph)
    detail = [
        f"{len(group)} modules: " + "; ".join(
            f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group)
        for group in found
    ]
    assert found == [], "import circles:\n" + "\n".join(detail)


def test_the_circle_check_sees_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    graph["c"] = set()
    assert circles(graph) == []
