"""Entry point of the ``blocks`` command.

Exit codes: 0 success, 1 error (the message says what and how to fix it), 2 usage, 141 when
stdout was closed early (``blocks ls | head -1``: quiet, as for ``git log | head``).
``blocks`` alone, or a command group alone (``blocks keys``), prints its help and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

import blocks
import blocks.cli
from blocks.audit_actor import set_via
from blocks.cli import complete_names, readonly
from blocks.cli import parser as cli_parser
from blocks.cli.confirm import NotConfirmed
from blocks.cli.output import EXIT_USAGE, error, json_flag, registry
from blocks.errors import BlocksError

EXIT_PIPE = 128 + 13  # what a shell reports for a process ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every ``blocks/cli/*_cmds.py`` module's commands."""
    parser = cli_parser.BlocksParser(
        prog="blocks",
        description="Typed, encrypted registry of credentials and connection configs.",
    )
    parser.add_argument("--version", action="version", version=f"blocks {blocks.__version__}")
    parser.add_argument("--json", action="store_true", default=False,
                        help="print machine-readable JSON")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(blocks.cli.__path__), key=lambda m: m.name):
        if mod.name.endswith("_cmds"):
            importlib.import_module(f"blocks.cli.{mod.name}").register(subparsers)
    for choice in subparsers.choices.values():
        _add_json_everywhere(choice)
    cli_parser.finish(parser)
    readonly.mark(list(cli_parser.walk(parser)))
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
    try:
        code = _run(sys.argv[1:] if argv is None else list(argv))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly. Point stdout at /dev/null so that
        # the interpreter's last flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_PIPE


def _run(argv: list[str]) -> int:
    previous = set_via("cli")
    try:
        return _run_as_cli(argv)
    finally:  # main() called from a program or a test: its own records go on as before
        set_via(previous)


def _run_as_cli(argv: list[str]) -> int:
    parser = build_parser()
    if argv[:1] == [complete_names.COMMAND]:  # called by the completion scripts on TAB
        return complete_names.run(parser, argv[1:])
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            _, command = cli_parser.chosen(parser, argv)
            assert isinstance(command, cli_parser.BlocksParser)
            command.unrecognized(extras)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    handler = args.handler
    try:
        if getattr(args, "read_only", False) and not readonly.exists(registry(args)):
            return error(readonly.missing_message(registry(args)))
        return int(handler(args))
    except BlocksError as exc:
        return error(str(exc))
    except NotConfirmed as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return error("interrupted")
    except BrokenPipeError:
        raise
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
