"""Confirmation of destructive commands: a ``[y/N]`` prompt on a terminal, ``--yes`` in scripts.

Without ``--yes`` and with no terminal on stdin, the command is refused (exit 2) rather than
run unasked, as ``terraform destroy -input=false`` refuses without ``-auto-approve``.
"""

from __future__ import annotations

import argparse
import sys

from blocks.cli.output import EXIT_ERROR, EXIT_USAGE


class NotConfirmed(Exception):
    """The user declined, or could not be asked; nothing was changed (a CLI outcome, so not
    a :class:`~blocks.errors.BlocksError`)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def yes_option(parser: argparse.ArgumentParser) -> None:
    """``--yes``/``-y``: do not ask (for scripts)."""
    parser.add_argument("--yes", "-y", action="store_true",
                        help="do not ask for confirmation (needed when stdin is not a terminal)")


def confirm(args: argparse.Namespace, action: str, consequence: str = "") -> None:
    """Go on when ``--yes`` was given or the user answers yes at the terminal.

    Args:
        args: the parsed command line (``--yes``).
        action: what is about to happen, e.g. ``delete secret/x``.
        consequence: why it needs a yes, e.g. ``its data key is destroyed``.

    Raises:
        NotConfirmed: the user said no, or stdin is not a terminal and ``--yes`` is missing.
    """
    if getattr(args, "yes", False):
        return
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise NotConfirmed(
            f"{action}: not confirmed, and stdin is not a terminal to ask on; pass --yes to go "
            "ahead (nothing was changed)",
            EXIT_USAGE,
        )
    sys.stderr.write(f"{action}? {consequence + ' ' if consequence else ''}[y/N] ")
    sys.stderr.flush()
    answer = stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed(f"{action}: not confirmed; nothing was changed", EXIT_ERROR)
