"""``blocks pools queues ls|inspect|create|update|pause|resume|rm``: the work queues of a pool
(registered under ``blocks pools`` by :mod:`blocks.cli.pools_cmds`)."""

from __future__ import annotations

import argparse
from typing import Any

from blocks.cli import pool_settings
from blocks.cli.output import (
    EXIT_OK,
    Subparsers,
    command_group,
    emit_rows,
    info,
    print_json,
    registry,
    wants_json,
)
from blocks.pools import WorkPool, WorkQueue


def register(sub: Subparsers) -> None:
    """Add ``queues`` and its sub-commands to ``blocks pools``."""
    qsub = command_group(sub, "queues", "work queues of a pool", dest="queues_command")

    p = qsub.add_parser("ls", help="list a pool's queues, by priority")
    p.add_argument("pool")
    p.set_defaults(handler=cmd_queue_ls)

    p = qsub.add_parser("inspect", help="show a queue")
    p.add_argument("pool")
    p.add_argument("name")
    p.set_defaults(handler=cmd_queue_inspect)

    p = qsub.add_parser("create", help="add a queue to a pool")
    p.add_argument("pool")
    p.add_argument("name")
    _queue_options(p)
    p.add_argument("--paused", action="store_true", help="create it paused")
    p.set_defaults(handler=cmd_queue_create)

    pool_settings.add_update(qsub, "queue", ["pool", "name"], _queue_options,
                             cmd_queue_update, "change a queue's settings")
    pool_settings.add_pause_resume(qsub, "queue", ["pool", "name"], cmd_queue_pause)

    p = qsub.add_parser("rm", help="delete a queue (not the default one)")
    p.add_argument("pool")
    p.add_argument("name")
    p.set_defaults(handler=cmd_queue_rm)


def _queue_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--description", help="what the queue is for")
    p.add_argument("--priority", type=int, metavar="N", help="1 is the highest")
    p.add_argument("--concurrency-limit", type=int, metavar="N", help="most runs in flight")


def cmd_queue_ls(args: argparse.Namespace) -> int:
    return emit_rows(
        args, WorkPool.load(args.pool, registry=registry(args)).queues(), queue_dict,
        ["NAME", "PRIORITY", "PAUSED", "CONCURRENCY", "VERSION", "DESCRIPTION"],
        lambda q: (q.name, q.priority, q.is_paused, q.concurrency_limit, q.version,
                   q.description),
    )


def cmd_queue_inspect(args: argparse.Namespace) -> int:
    queue = WorkPool.load(args.pool, registry=registry(args)).queue(args.name)
    out = queue_dict(queue)
    if wants_json(args):
        print_json(out)
    else:
        for key, value in out.items():
            print(f"{key}: {'-' if value is None else value}")
    return EXIT_OK


def cmd_queue_create(args: argparse.Namespace) -> int:
    pool = WorkPool.load(args.pool, registry=registry(args))
    before = _priorities(pool)
    queue = pool.create_queue(
        args.name, description=args.description or "", priority=args.priority,
        concurrency_limit=args.concurrency_limit, is_paused=args.paused,
    )
    return _queue_saved(args, queue, "created", before)


def cmd_queue_update(args: argparse.Namespace) -> int:
    pool = WorkPool.load(args.pool, registry=registry(args))
    before = _priorities(pool)
    queue = pool.queue(args.name)
    pool_settings.apply_update(queue, args)
    if args.priority is not None:
        queue.priority = args.priority
    queue.save(expected_version=args.expected_version)
    return _queue_saved(args, queue, "updated", before)


def cmd_queue_pause(args: argparse.Namespace) -> int:
    queue = WorkPool.load(args.pool, registry=registry(args)).queue(args.name)
    (queue.pause if args.paused else queue.resume)()
    return _queue_saved(args, queue, "paused" if args.paused else "resumed")


def cmd_queue_rm(args: argparse.Namespace) -> int:
    WorkPool.load(args.pool, registry=registry(args)).delete_queue(args.name)
    if wants_json(args):
        print_json({"deleted": {"pool": args.pool, "queue": args.name}})
    else:
        info(f"deleted queue {args.name} of work pool {args.pool}")
    return EXIT_OK


# -- helpers --------------------------------------------------------------------------------


def queue_dict(queue: WorkQueue) -> dict[str, Any]:
    """A queue as ``--json`` prints it."""
    return queue.model_dump()


def _priorities(pool: WorkPool) -> dict[str, int]:
    return {q.name: q.priority for q in pool.queues()}


def _queue_saved(args: argparse.Namespace, queue: WorkQueue, verb: str,
                 before: dict[str, int] | None = None) -> int:
    if wants_json(args):
        print_json(queue_dict(queue))
    else:
        info(f"{verb} queue {queue.name} of work pool {queue.pool} (priority {queue.priority})")
        if before is not None:  # a taken priority moves the other queues down, as in Prefect
            after = _priorities(WorkPool.load(queue.pool, registry=registry(args)))
            for name, priority in after.items():
                if name != queue.name and before.get(name) not in (None, priority):
                    info(f"moved queue {name} from priority {before[name]} to {priority}")
    return EXIT_OK
