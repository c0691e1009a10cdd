"""The sub-commands a work pool and a work queue share: ``update``, ``pause`` and ``resume``
(``blocks pools ...`` in :mod:`blocks.cli.pools_cmds`, ``blocks pools queues ...`` in
:mod:`blocks.cli.pool_queues`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from blocks.cli.output import Handler, Subparsers, version_number
from blocks.pools import WorkPool, WorkQueue


def add_update(sub: Subparsers, what: str, targets: Sequence[str],
               options: Callable[[argparse.ArgumentParser], None], handler: Handler,
               help: str) -> None:
    """Add ``update``: ``targets`` (the positional arguments naming the pool or queue), its
    settings ``options``, ``--no-concurrency-limit`` and ``--expected-version``."""
    p = sub.add_parser("update", help=help)
    for target in targets:
        p.add_argument(target)
    options(p)
    p.add_argument("--no-concurrency-limit", action="store_true", help="remove the limit")
    p.add_argument("--expected-version", type=version_number, metavar="N",
                   help=f"compare-and-set: fail unless the {what} is at version N")
    p.set_defaults(handler=handler)


def apply_update(target: WorkPool | WorkQueue, args: argparse.Namespace) -> None:
    """Set on ``target`` what ``update``'s shared options give: ``--description``,
    ``--concurrency-limit`` and ``--no-concurrency-limit``."""
    if args.description is not None:
        target.description = args.description
    if args.concurrency_limit is not None:
        target.concurrency_limit = args.concurrency_limit
    if args.no_concurrency_limit:
        target.concurrency_limit = None


def add_pause_resume(sub: Subparsers, what: str, targets: Sequence[str],
                     handler: Handler) -> None:
    """Add ``pause`` and ``resume`` (``args.paused`` tells them apart)."""
    for verb, paused in (("pause", True), ("resume", False)):
        p = sub.add_parser(verb, help=f"{verb} a {what}")
        for target in targets:
            p.add_argument(target)
        p.set_defaults(handler=handler, paused=paused)
