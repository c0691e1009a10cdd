"""``blocks verify``: check everything stored authenticates and resolves (like git fsck)."""

from __future__ import annotations

import argparse
import sys

from blocks.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    key_provider_option,
    local_registry,
    print_json,
    wants_json,
)
from blocks.verify import verify


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks verify``."""
    p = subparsers.add_parser(
        "verify", help="check every term, head, version, reference, pool and queue; exit 1 "
                       "on any problem",
    )
    key_provider_option(p)
    p.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    report = verify(local_registry(args))
    if wants_json(args):
        print_json({
            "ok": report.ok,
            "checked": dict(sorted(report.checked.items())),
            "problems": [p.__dict__ for p in report.problems],
        })
    else:
        for problem in report.problems:
            print(f"{problem.kind:<13} {problem.what}: {problem.detail}")
        counts = ", ".join(f"{n} {k}" for k, n in sorted(report.checked.items()))
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        sys.stderr.write(f"checked {counts or 'nothing'}: {verdict}\n")
    return EXIT_OK if report.ok else EXIT_ERROR
