"""Entry point of the ``blocks`` command.

Exit codes: 0 success, 1 error (the message says what and how to fix it), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

import blocks.cli
from blocks.cli.output import EXIT_USAGE, error, json_flag
from blocks.errors import BlocksError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every ``blocks/cli/*_cmds.py`` module's commands."""
    parser = argparse.ArgumentParser(
        prog="blocks",
        description="Typed, encrypted registry of credentials and connection configs.",
    )
    parser.add_argument("--json", action="store_true", default=False,
                        help="print machine-readable JSON")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for mod in sorted(pkgutil.iter_modules(blocks.cli.__path__), key=lambda m: m.name):
        if mod.name.endswith("_cmds"):
            importlib.import_module(f"blocks.cli.{mod.name}").register(subparsers)
    for choice in subparsers.choices.values():
        _add_json_everywhere(choice)
    return parser


def _add_json_everywhere(parser: argparse.ArgumentParser) -> None:
    if not any("--json" in a.option_strings for a in parser._actions):
        json_flag(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_json_everywhere(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except BlocksError as exc:
        return error(str(exc))
    except KeyboardInterrupt:
        return error("interrupted")
    except Exception as exc:
        # Unexpected errors: no message text (it might carry data), only the type.
        if os.environ.get("BLOCKS_DEBUG"):
            traceback.print_exc()
        return error(
            f"internal error ({type(exc).__name__}); set BLOCKS_DEBUG=1 to see the traceback"
        )
    finally:
        reg = getattr(args, "_registry", None)
        if reg is not None:
            reg.close()


if __name__ == "__main__":
    sys.exit(main())
