"""``blocks audit``: list, export, verify and prune the audit trail; who read a block; the
HMAC of a value (read from standard input, never the command line)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from blocks.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    command_group,
    emit_rows,
    info,
    print_json,
    registry,
    wants_json,
)
from blocks.cli.readonly import read_only
from blocks.errors import InvalidArgument
from blocks.store.audit_log import AuditEntry

ACTIONS_HELP = "read, list, history, write, rollback, rename, delete, purge, promote, ..."


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks audit``."""
    sub = command_group(subparsers, "audit",
                        "the audit trail: ls, export, who-read, verify, prune, hash",
                        dest="audit_command", metavar="AUDIT_COMMAND", key_provider=True)
    p = sub.add_parser("ls", help="audit records, newest first (never a value)")
    _filters(p)
    p.add_argument("--limit", type=int, default=100, metavar="N",
                   help="at most N records (default 100; 0: all)")
    read_only(p)
    p.set_defaults(handler=cmd_ls)
    p = sub.add_parser("export", help="every record matching the filters, oldest first, "
                                      "as JSON lines (for a SIEM; streamed)")
    _filters(p)
    p.add_argument("--jsonl", action="store_true", help="JSON lines (the only format)")
    read_only(p)
    p.set_defaults(handler=cmd_export)
    p = sub.add_parser("who-read", help="who read a block's value: identities and counts")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--since", metavar="WHEN", help="an age such as 30d, or a date")
    read_only(p)
    p.set_defaults(handler=cmd_who_read)
    p = sub.add_parser("verify", help="check the whole audit chain (exit 1 on any problem)")
    read_only(p)
    p.set_defaults(handler=cmd_verify)
    p = sub.add_parser("prune", help="delete records older than a date; a sealed checkpoint "
                                     "keeps the rest verifiable")
    p.add_argument("--before", required=True, metavar="DATE",
                   help="a date (2026-01-31) or an age (400d)")
    p.set_defaults(handler=cmd_prune)
    p = sub.add_parser("hash", help="the audit HMAC of a value read from standard input (to "
                                    "search the records for it)")
    p.add_argument("value", nargs="?", help=argparse.SUPPRESS)  # refused: see cmd_hash
    p.set_defaults(handler=cmd_hash)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ref", metavar="SLUG/NAME", help="records about this block")
    p.add_argument("--actor", metavar="NAME", help="a name, kind:name, token id or its hash")
    p.add_argument("--since", metavar="WHEN", help="an age such as 30d, or a date")
    p.add_argument("--action", metavar="ACTION", help=ACTIONS_HELP)
    p.add_argument("--denied", action="store_true", help="refused requests only")


def _entries(args: argparse.Namespace, limit: int | None, oldest_first: bool) -> Any:
    return registry(args).audit.ls(args.ref, args.actor, args.since, args.action,
                                   args.denied, limit, oldest_first=oldest_first)


def _row(e: AuditEntry) -> list[Any]:
    version = f" v{e.version}" if e.version is not None else ""
    stage = f" ({e.stage})" if e.stage else ""
    outcome = e.outcome if e.error is None else f"{e.outcome}: {e.error}"
    return [e.seq, e.at, e.actor.label(), e.actor.via, e.action,
            f"{e.obj}{version}{stage}", outcome]


def cmd_ls(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise InvalidArgument(f"--limit: must be 0 (all) or more, got {args.limit}")
    return emit_rows(args, _entries(args, args.limit or None, False), AuditEntry.to_json,
                     ["SEQ", "AT", "ACTOR", "VIA", "ACTION", "OBJECT", "OUTCOME"], _row)


def cmd_export(args: argparse.Namespace) -> int:
    out = sys.stdout
    for entry in _entries(args, None, True):  # one record at a time: constant memory
        out.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
    return EXIT_OK


def cmd_who_read(args: argparse.Namespace) -> int:
    reads = registry(args).audit.who_read(args.ref, args.since)
    emit_rows(args, reads, lambda r: r.to_json(), ["IDENTITY", "READS", "LAST READ"],
              lambda r: [r.identity, r.count, r.last_at])
    if not reads and not wants_json(args):
        info(f"no recorded reads of {args.ref}" + (f" since {args.since}" if args.since
                                                    else "") + " (local reads are "
             "recorded with BLOCKS_AUDIT_READS=1; a blocks server records every read)")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    report = registry(args).audit.verify()
    if wants_json(args):
        print_json(report.to_json())
    else:
        for problem in report.problems:
            print(f"event-chain  {problem}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        info(f"checked {report.events} event(s), {report.records} audit record(s) in "
             f"{report.seconds:.2f} s; head: event {report.head} {report.digest[:16]}: "
             f"{verdict}")
    return EXIT_OK if report.ok else EXIT_ERROR


def cmd_prune(args: argparse.Namespace) -> int:
    count = registry(args).audit.prune(args.before)
    if wants_json(args):
        print_json({"pruned": count})
    else:
        info(f"pruned {count} audit record(s) before {args.before}; the rest still verifies")
    return EXIT_OK


def cmd_hash(args: argparse.Namespace) -> int:
    if args.value is not None:  # never echoed: it would be a secret in the shell history
        raise InvalidArgument("blocks audit hash reads the value from standard input, never "
                              "the command line (it would stay in the shell history): run "
                              "'blocks audit hash < file', or type it after 'blocks audit "
                              "hash' and press Ctrl-D")
    if sys.stdin.isatty():
        info("type the value, then Ctrl-D (it is read from standard input, never the "
             "command line)")
    stdin = sys.stdin
    data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    if data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise InvalidArgument("blocks audit hash: standard input is empty; pipe the value in, "
                              "e.g. 'blocks audit hash < token-id.txt'")
    digest = registry(args).audit.hash(data)
    if wants_json(args):
        print_json({"hash": digest})
    else:
        print(digest)
    return EXIT_OK
