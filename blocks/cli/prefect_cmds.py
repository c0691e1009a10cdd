"""Prefect bridge commands (extra ``blocks-registry[prefect]``).

``blocks pools publish NAME|--all [--dry-run] [--prune]``, ``blocks pools diff NAME|--all``,
``blocks mirror SLUG/NAME --to prefect [--rm]``, ``blocks mirror status|push``,
``blocks import prefect [--dry-run] [--type SLUG] [--name NAME] [--pools]``.

The bridge (and httpx) is imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from blocks.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    emit_rows,
    info,
    local_registry,
    print_json,
    wants_json,
)
from blocks.errors import ConfigurationError

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry

EXIT_DRIFT = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pools publish|diff`` to ``blocks pools``, and ``blocks mirror``, ``blocks import``."""
    pools = subparsers.choices["pools"]
    pool_sub = next(
        a for a in pools._actions if isinstance(a, argparse._SubParsersAction)
    )
    p = pool_sub.add_parser("publish", help="create or update pools and queues on Prefect")
    _targets(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--prune", action="store_true",
                   help="delete queues (with --all: pools) that exist on Prefect only")
    p.set_defaults(handler=cmd_publish)

    p = pool_sub.add_parser("diff", help="show drift between Blocks and Prefect")
    _targets(p)
    p.add_argument("--detailed-exitcode", action="store_true",
                   help=f"exit {EXIT_DRIFT} when Prefect differs from Blocks")
    p.set_defaults(handler=cmd_diff)

    p = subparsers.add_parser(
        "mirror", help="mirror a block into Prefect, kept current on every save",
        description="blocks mirror SLUG/NAME --to prefect | blocks mirror SLUG/NAME --rm | "
                    "blocks mirror status | blocks mirror push",
    )
    p.add_argument("target", metavar="SLUG/NAME|status|push",
                   help="the block to mirror; 'status' lists mirrors; 'push' re-pushes stale ones")
    p.add_argument("--to", choices=["prefect"], default="prefect", help="mirror target")
    p.add_argument("--as", dest="target_name", metavar="NAME",
                   help="name of the copy on the target (default: the block's name)")
    p.add_argument("--rm", action="store_true",
                   help="stop mirroring SLUG/NAME and delete the copy on the target")
    p.add_argument("--keep", action="store_true", help="with --rm: keep the copy on the target")
    p.set_defaults(handler=cmd_mirror)

    pf = subparsers.add_parser("prefect", help="Prefect-side helpers of the bridge")
    pfsub = pf.add_subparsers(dest="prefect_command", metavar="COMMAND")
    pfsub.required = True
    for command, job, what in (("deploy-rotation", "rotate-due", "'blocks rotate --due'"),
                               ("deploy-gc", "gc", "'blocks gc' (shred what is due)")):
        p = pfsub.add_parser(command, help=f"deploy the shipped {what} flow on a pool")
        p.add_argument("--pool", required=True,
                       help="a pool published to Prefect (onto another pool or queue than "
                            "before, the deployment is created anew, with a new id)")
        p.add_argument("--cron", required=True, help='schedule, e.g. "*/15 * * * *"')
        p.add_argument("--queue", help="queue of the pool (default: the pool's default)")
        p.add_argument("--timezone", default="UTC",
                       help="timezone of the schedule (default UTC)")
        p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                       help="extra environment variable for the flow runs (repeatable)")
        p.set_defaults(handler=cmd_deploy_rotation, job=job)

    imp = subparsers.add_parser("import", help="import blocks from another system")
    isub = imp.add_subparsers(dest="import_source", metavar="SOURCE")
    isub.required = True
    p = isub.add_parser("prefect", help="copy block documents (or --pools) from Prefect")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.add_argument("--type", dest="type_slug", metavar="SLUG",
                   help="only documents of this Prefect block type")
    p.add_argument("--name", metavar="NAME", help="only documents of this name")
    p.add_argument("--pools", action="store_true", help="import work pools and queues instead")
    p.set_defaults(handler=cmd_import)


def _targets(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="pool name")
    p.add_argument("--all", action="store_true", help="every pool of Blocks")


def client(reg: Registry) -> PrefectClient:
    """A client of the configured Prefect server (the registry's settings, else the
    environment)."""
    from blocks.integrations.prefect.client import PrefectClient

    return PrefectClient(settings=reg.settings if reg.settings.prefect_api_url else None)


def _pools(args: argparse.Namespace, reg: Registry) -> list[object]:
    from blocks.pools import WorkPool

    if args.all == bool(args.name):
        raise ConfigurationError("name one pool, or pass --all (not both)")
    if args.all:
        return list(WorkPool.list_pools(registry=reg))
    return [WorkPool.load(args.name, registry=reg)]


def cmd_publish(args: argparse.Namespace) -> int:
    from blocks.integrations.prefect.publish import publish

    reg = local_registry(args)
    with client(reg) as api:
        result = publish(api, _pools(args, reg), reg, dry_run=args.dry_run,  # type: ignore[arg-type]
                         prune=args.prune, all_pools=args.all)
    if wants_json(args):
        print_json({**result.as_json(), "applied": not args.dry_run})
    else:
        print(result.render())
        if result.writes:
            info("dry run: nothing changed" if args.dry_run else "applied")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from blocks.integrations.prefect.publish import plan

    reg = local_registry(args)
    with client(reg) as api:
        result = plan(api, _pools(args, reg), reg, all_pools=args.all)  # type: ignore[arg-type]
    if wants_json(args):
        print_json(result.as_json())
    else:
        print(result.render(drift=True))
    return EXIT_DRIFT if args.detailed_exitcode and result.changes else EXIT_OK


def cmd_mirror(args: argparse.Namespace) -> int:
    if args.target == "status":
        return cmd_mirror_status(args)
    if args.target == "push":
        return cmd_mirror_push(args)
    if args.rm:
        return cmd_mirror_rm(args)
    return cmd_mirror_add(args)


def cmd_mirror_add(args: argparse.Namespace) -> int:
    from blocks.integrations.mirrors import add_mirror

    reg = local_registry(args)
    status = add_mirror(reg, args.target, args.to, target_name=args.target_name)
    if wants_json(args):
        print_json(status.as_json())
    else:
        info(f"{args.target} mirrored to {args.to} as {status.target_ref} "
             f"(version {status.pushed_version})")
    return EXIT_OK


def cmd_mirror_status(args: argparse.Namespace) -> int:
    from blocks.integrations.mirrors import mirror_status

    # Reads each copy back from its target: "current" means Prefect holds what Blocks would
    # push now, nested blocks included.
    rows = mirror_status(local_registry(args), compare=True)
    return emit_rows(
        args, rows, lambda s: s.as_json(),
        ["BLOCK", "TARGET", "AS", "PUSHED", "CURRENT", "STATE", "LAST ERROR"],
        lambda s: [s.ref, s.target, s.target_ref, s.pushed_version, s.current_version,
                   s.state, s.last_error or s.drift],
    )


def cmd_mirror_rm(args: argparse.Namespace) -> int:
    from blocks.integrations.mirrors import remove_mirror

    remove_mirror(local_registry(args), args.target, delete_copy=not args.keep)
    info(f"{args.target} is no longer mirrored")
    return EXIT_OK


def cmd_mirror_push(args: argparse.Namespace) -> int:
    from blocks.integrations.mirrors import push_stale

    pushed = push_stale(local_registry(args))
    info(f"{len(pushed)} mirror(s) pushed")
    return EXIT_OK


def cmd_deploy_rotation(args: argparse.Namespace) -> int:
    from blocks.integrations.prefect.deploy import deploy_rotation

    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--env {item!r}: use NAME=VALUE")
        env[key] = value
    reg = local_registry(args)
    replaced: list[dict[str, Any]] = []
    with client(reg) as api:
        deployment = deploy_rotation(api, reg, pool=args.pool, cron=args.cron, queue=args.queue,
                                     timezone=args.timezone, env=env, job=args.job,
                                     on_replace=replaced.append)
    if wants_json(args):
        print_json({"id": deployment["id"], "name": deployment["name"], "pool": args.pool,
                    "cron": args.cron, "replaced": replaced[0]["id"] if replaced else None})
        return EXIT_OK
    for old in replaced:
        info(f"{deployment['name']} was on pool {old.get('work_pool_name')!r}, queue "
             f"{old.get('work_queue_name')!r}: deleted it (id {old['id']}) and created it "
             "anew, so that Prefect makes its runs in the new queue")
    info(f"deployed {deployment['name']} (id {deployment['id']}) on pool {args.pool}, "
         f"schedule {args.cron!r}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    reg = local_registry(args)
    if args.pools:
        from blocks.integrations.prefect.import_pools import import_pools

        with client(reg) as api:
            pool_result = import_pools(api, reg, dry_run=args.dry_run, name=args.name)
        if wants_json(args):
            print_json(pool_result.as_json())
        else:
            print(pool_result.render())
        return EXIT_OK
    from blocks.integrations.prefect.importer import import_blocks

    with client(reg) as api:
        result = import_blocks(api, reg, dry_run=args.dry_run, type_slug=args.type_slug,
                               name=args.name)
    if wants_json(args):
        print_json(result.as_json())
    else:
        print(result.render())
    return EXIT_ERROR if result.counts()["failed"] else EXIT_OK
