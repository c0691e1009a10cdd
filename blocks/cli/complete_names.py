"""Names for tab completion: block refs, pool names and queue names from the registry.

The completion scripts are static tables of the parser tree; names change, so for a positional
argument that takes one the scripts call ``blocks __complete WORD...`` (the words typed before
the one being completed) and offer what it prints, one name a line. It reads only: no registry
is created, nothing is written, and any problem prints nothing (completion never shows an error).
Names are not secret; values are never read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from blocks.cli.parser import walk

COMMAND = "__complete"
# Commands whose name argument is a new name, not an existing one.
_NEW_NAMES = frozenset({"create"})


def kind(path: Sequence[str], dest: str) -> str | None:
    """What a positional argument names: ``refs``, ``pools``, ``queues``, or None (not a name)."""
    if dest == "ref":
        return "refs"
    if dest == "pool":
        return "pools"
    if dest == "name" and path and path[0] == "pools" and path[-1] not in _NEW_NAMES:
        return "queues" if len(path) > 1 and path[1] == "queues" else "pools"
    return None


def dynamic(path: Sequence[str], parser: argparse.ArgumentParser) -> bool:
    """True when a positional argument of the command at ``path`` completes from the registry."""
    return any(kind(path, a.dest) for a in _positionals(parser))


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]


def _command(root: argparse.ArgumentParser, words: Sequence[str]
             ) -> tuple[tuple[str, ...], argparse.ArgumentParser, list[str]]:
    """The command path the words name, its parser, and the positional words after it."""
    parsers = dict(walk(root))
    path: tuple[str, ...] = ()
    values: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        parser = parsers[path]
        if word.startswith("-"):
            action = parser._option_string_actions.get(word.split("=", 1)[0])
            skip = "=" not in word and action is not None and action.nargs != 0
            continue
        if (*path, word) in parsers and not values:
            path = (*path, word)
            continue
        values.append(word)
    return path, parsers[path], values


def candidates(root: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    """The names to offer after ``words`` (the words typed before the one being completed)."""
    path, parser, values = _command(root, words)
    positionals = _positionals(parser)
    if len(values) >= len(positionals):
        return []
    wanted = kind(path, positionals[len(values)].dest)
    if wanted is None:
        return []
    from blocks.cli import readonly
    from blocks.registry_protocol import open_registry

    registry = open_registry()
    try:
        if not readonly.exists(registry):
            return []
        if wanted == "refs" and path == ("rm",) and "--undo" in words:
            return registry.deleted_refs()  # what an undo can bring back
        if wanted == "refs":
            return sorted(b.ref for b in registry.list())
        from blocks.pools import WorkPool
        from blocks.registry import local

        pools = local(registry, "completing pool names")
        if wanted == "pools":
            return sorted(p.name for p in WorkPool.list_pools(registry=pools))
        pool = values[0] if values else ""
        return sorted(q.name for q in WorkPool.load(pool, registry=pools).queues())
    finally:
        registry.close()


def run(root: argparse.ArgumentParser, words: Sequence[str]) -> int:
    """``blocks __complete WORD...``: print the candidates, one a line; always exit 0."""
    try:
        names = candidates(root, words)
    except Exception:  # completion shows no errors; the command itself will say what is wrong
        return 0
    sys.stdout.write("".join(f"{name}\n" for name in names))
    return 0
