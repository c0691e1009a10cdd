"""Shared CLI plumbing: the registry, JSON or table output, errors and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from blocks.errors import ConfigurationError, ValidationError
from blocks.keys.factory import SPEC_HELP, ProviderSpec, parse_provider_spec
from blocks.registry import Registry, local
from blocks.registry_protocol import RegistryProtocol, open_registry
from blocks.settings import Settings
from blocks.settings import provider_settings_lines as provider_settings_lines

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def json_flag(parser: argparse.ArgumentParser) -> None:
    """Accept ``--json`` after the sub-command too (``blocks ls --json``)."""
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS,
        help="print machine-readable JSON",
    )


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def command_group(subparsers: Subparsers, name: str, help: str, *, dest: str,
                  metavar: str = "COMMAND", key_provider: bool = False) -> Subparsers:
    """Add ``blocks NAME``, a group that needs a sub-command; returns its sub-parsers.
    ``key_provider``: it takes ``--key-provider`` (:func:`key_provider_option`)."""
    group = subparsers.add_parser(name, help=help)
    if key_provider:
        key_provider_option(group)
    sub = group.add_subparsers(dest=dest, metavar=metavar)
    sub.required = True
    return sub


def registry(args: argparse.Namespace) -> RegistryProtocol:
    """The registry for this invocation (``BLOCKS_*`` settings; ``--key-provider`` wins): a
    blocks server's when ``BLOCKS_API_URL`` is set, else the local one."""
    reg = getattr(args, "_registry", None)
    if reg is None:
        spec = getattr(args, "key_provider", None)
        reg = open_registry(spec.apply(Settings()) if spec is not None else None)
        args._registry = reg
    return reg


def local_registry(args: argparse.Namespace) -> Registry:
    """The registry for a command that needs the database and the key in this process.

    Raises:
        ConfigurationError: ``BLOCKS_API_URL`` points the CLI at a blocks server.
    """
    return local(registry(args), "this command")


def provider_spec(text: str) -> ProviderSpec:
    """argparse ``type=`` for ``PROVIDER[:KEY]`` (a bad spec is a usage error, exit 2)."""
    try:
        return parse_provider_spec(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def version_number(text: str) -> int:
    """argparse ``type=`` for ``--expected-version``: a version number, 0 or more (a negative
    one is a usage error, exit 2, never reported as a conflict)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a version number: give 0 or more (0: must not exist yet)"
        )
    return value


def key_provider_option(parser: argparse.ArgumentParser) -> None:
    """``--key-provider PROVIDER[:KEY]``: the master key for this invocation."""
    parser.add_argument(
        "--key-provider", type=provider_spec, metavar="PROVIDER[:KEY]", default=None,
        help=f"master key to use instead of BLOCKS_KEY_PROVIDER: {SPEC_HELP}",
    )


def read_source(source: str, ref: str) -> bytes | str:
    """The bytes of file ``source`` (``-``: standard input), for :func:`blocks.codec.parse_json`.

    Raises:
        ValidationError: the file cannot be read (the OS reason, never its content).
    """
    try:
        if source == "-":
            stream = getattr(sys.stdin, "buffer", None)
            return stream.read() if stream is not None else sys.stdin.read()
        return Path(source).read_bytes()
    except OSError as exc:
        raise ValidationError(ref, [("", f"cannot read {source}: {exc.strerror}")]) from None


def wants_json(args: argparse.Namespace) -> bool:
    """True when ``--json`` was given before or after the sub-command."""
    return bool(getattr(args, "json", False))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=_default) + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table on stdout (nothing but the header for no rows)."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for row in cells:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        sys.stdout.write("\n")


def emit_rows(
    args: argparse.Namespace,
    items: Sequence[T],
    as_json: Callable[[T], Any],
    headers: Sequence[str],
    as_row: Callable[[T], Sequence[Any]],
) -> int:
    """A listing: JSON objects with ``--json``, else a table; returns the success code."""
    if wants_json(args):
        print_json([as_json(item) for item in items])
    else:
        print_table(headers, [as_row(item) for item in items])
    return EXIT_OK


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def error(message: str) -> int:
    """Print ``error: message`` on stderr; returns the error exit code."""
    sys.stderr.write(f"error: {message}\n")
    return EXIT_ERROR


def info(message: str) -> None:
    """A progress or status line on stderr (stdout stays clean for data)."""
    sys.stderr.write(message + "\n")
