"""Key commands: ``blocks keys status | rotate | rewrap | retire | rotate-master | purge``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from blocks.cli.confirm import confirm, yes_option
from blocks.cli.output import (
    EXIT_OK,
    error,
    info,
    key_provider_option,
    local_registry,
    print_json,
    print_table,
    provider_settings_lines,
    provider_spec,
    registry,
    wants_json,
)
from blocks.key_management import DEFAULT_BATCH, KeyManager
from blocks.keys.factory import SPEC_HELP, ProviderSpec, provider_from_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks keys ...``."""
    keys = subparsers.add_parser("keys", help="master key and keyring: status, rotation, rewrap")
    key_provider_option(keys)
    sub = keys.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND")
    sub.required = True

    p = sub.add_parser("status", help="provider, keyring terms, versions per term")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("rotate", help="add a keyring term; new writes use it")
    p.set_defaults(handler=cmd_rotate)

    p = sub.add_parser(
        "rewrap", help="move data keys of older terms under the current term (no document "
        "is opened; batched, resumable, safe while others read and write)",
    )
    p.add_argument("--term", type=int, metavar="T", help="only this term (default: all older)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N",
                   help=f"versions per transaction (default {DEFAULT_BATCH})")
    p.set_defaults(handler=cmd_rewrap)

    p = sub.add_parser("retire", help="delete a term's key (refused while versions use it)")
    p.add_argument("term", type=int, metavar="T")
    yes_option(p)
    p.set_defaults(handler=cmd_retire)

    p = sub.add_parser(
        "rotate-master", help="re-wrap the keyring under another master key (O(1) in blocks)"
    )
    p.add_argument("--to", required=True, type=provider_spec, metavar="PROVIDER[:KEY]",
                   help=SPEC_HELP)
    p.set_defaults(handler=cmd_rotate_master)

    p = sub.add_parser(
        "purge", help="crypto-shred an earlier version: delete its data key for good"
    )
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--version", type=int, required=True, metavar="N")
    yes_option(p)
    p.set_defaults(handler=cmd_purge)


def _keys(args: argparse.Namespace) -> KeyManager:
    return KeyManager(local_registry(args))


def cmd_status(args: argparse.Namespace) -> int:
    status = _keys(args).status()
    if wants_json(args):
        print_json({
            "provider": status.provider, "key_id": status.key_id, "endpoint": status.endpoint,
            "terms": [t.__dict__ for t in status.terms],
            "shredded_versions": status.shredded_versions,
        })
        return EXIT_OK
    print(f"master key: {status.provider} {status.key_id} ({status.endpoint})")
    print_table(
        ["TERM", "CURRENT", "VERSIONS", "CREATED", "WRAPPED BY"],
        [(t.term, "*" if t.current else "", t.versions, t.created_at,
          f"{t.provider} {t.key_id}") for t in status.terms],
    )
    if status.shredded_versions:
        print(f"purged versions: {status.shredded_versions}")
    return EXIT_OK


def cmd_rotate(args: argparse.Namespace) -> int:
    term = _keys(args).rotate()
    if wants_json(args):
        print_json({"current_term": term})
    else:
        print(f"current term: {term}")
        info("new writes use it; 'blocks keys rewrap' moves older data keys to it")
    return EXIT_OK


def cmd_rewrap(args: argparse.Namespace) -> int:
    result = _keys(args).rewrap(
        args.term, batch_size=args.batch_size, progress=ProgressBar("rewrap", sys.stderr)
    )
    out: dict[str, Any] = {
        "target_term": result.target_term, "from_terms": result.from_terms,
        "moved": result.moved, "failed": result.failed,
    }
    if wants_json(args):
        print_json(out)
    else:
        print(f"rewrapped {result.moved} data key(s) under term {result.target_term}")
    if result.failed:
        return error(
            f"{len(result.failed)} data key(s) did not open and were left alone (altered data?): "
            + "; ".join(result.failed[:10])
        )
    return EXIT_OK


def cmd_retire(args: argparse.Namespace) -> int:
    confirm(args, f"retire keyring term {args.term}", "Its key is deleted for good.")
    _keys(args).retire(args.term)
    if wants_json(args):
        print_json({"retired_term": args.term})
    else:
        print(f"retired term {args.term}")
    return EXIT_OK


def cmd_rotate_master(args: argparse.Namespace) -> int:
    reg = local_registry(args)
    spec: ProviderSpec = args.to
    target = spec.apply(reg.settings)
    new_provider = provider_from_settings(target, create=True)
    done = KeyManager(reg).rotate_master(new_provider)
    if wants_json(args):
        print_json(done.__dict__)
        return EXIT_OK
    print(
        f"keyring ({done.terms} term(s)) re-wrapped: {done.old_provider} {done.old_key_id} -> "
        f"{done.new_provider} {done.new_key_id}"
    )
    info("configure every process with the new master key:")
    for line in provider_settings_lines(target):
        info(f"  {line}")
    return EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    confirm(args, f"purge {args.ref} version {args.version}",
            "Its data key is destroyed: that version can never be read again.")
    registry(args).purge(args.ref, args.version)
    if wants_json(args):
        print_json({"purged": args.ref, "version": args.version})
    else:
        print(f"purged {args.ref} version {args.version}: its data key is gone")
    return EXIT_OK


class ProgressBar:
    """A progress bar on a terminal; on a pipe, a line now and then (first batch, every 2 s,
    the end).

    Args:
        label: what is progressing.
        stream: where to draw (stderr, so that stdout stays clean for data).
        width: bar width in characters.
    """

    def __init__(self, label: str, stream: TextIO, *, width: int = 30) -> None:
        self._label = label
        self._stream = stream
        self._width = width
        self._tty = stream.isatty()
        self._last = 0.0
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        if self._finished:
            return
        fraction = done / total if total else 1.0
        filled = int(self._width * fraction)
        line = (
            f"{self._label} [{'#' * filled}{'.' * (self._width - filled)}] "
            f"{done:,}/{total:,} ({fraction:.0%})"
        )
        finished = self._finished = done >= total
        now = time.monotonic()
        if self._tty:
            self._stream.write("\r" + line + ("\n" if finished else ""))
        elif finished or (done and (self._last == 0.0 or now - self._last >= 2.0)):
            self._stream.write(line + "\n")
        else:
            return
        self._last = now
        self._stream.flush()


