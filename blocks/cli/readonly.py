"""Read-only commands on a home with no registry say so, and create nothing.

Without this, ``blocks ls`` on a fresh machine would create ``~/.blocks/blocks.db`` (and
``keys status`` a master key) just to report that there is nothing there.
"""

from __future__ import annotations

import argparse

from blocks.registry_protocol import RegistryProtocol

# Commands that only read. A new read-only command joins by calling read_only(parser) when it
# registers, or by being listed here.
READ_ONLY_COMMANDS = frozenset({
    "ls", "inspect", "history", "verify",
    "rotation ls", "rotation show", "pools diff",
    "keys status", "tokens ls", "policies ls", "policies get",
    "pools ls", "pools inspect", "pools history", "pools render",
    "pools queues ls", "pools queues inspect",
})


def read_only(parser: argparse.ArgumentParser) -> None:
    """Mark a command as read-only: it refuses to run, creating nothing, without a registry."""
    parser.set_defaults(read_only=True)


def mark(tree: list[tuple[tuple[str, ...], argparse.ArgumentParser]]) -> None:
    """Mark the commands of :data:`READ_ONLY_COMMANDS` in a walked parser tree."""
    for path, parser in tree:
        if " ".join(path) in READ_ONLY_COMMANDS:
            read_only(parser)


def exists(registry: RegistryProtocol) -> bool:
    """True when the registry's database exists with a schema and a keyring (nothing is
    created); the rule is :func:`blocks.store.presence.exists`, shared with the API."""
    return registry.exists()


def missing_message(registry: RegistryProtocol) -> str:
    """What to say when a read-only command finds no registry."""
    return (f"no registry at {registry.where()}; create "
            "one with 'blocks init', or point BLOCKS_HOME or BLOCKS_DATABASE_URL at an existing "
            "one")
