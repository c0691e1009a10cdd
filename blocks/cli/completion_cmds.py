"""``blocks completion bash|zsh|fish``: print a shell completion script."""

from __future__ import annotations

import argparse
import sys

from blocks.cli.completion import SHELLS, script
from blocks.cli.output import EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks completion``."""
    p = subparsers.add_parser(
        "completion", help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script for commands, sub-commands, options, their "
        "choices and block type slugs. Load it in the shell's start-up file (see examples).",
    )
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    from blocks import catalog
    from blocks.cli.main import build_parser

    sys.stdout.write(script(args.shell, build_parser(), catalog.all_types()))
    return EXIT_OK
