"""Deleting blocks with a recovery window: ``rm`` (``--now``, ``--undo``, ``--list-deleted``)
and ``gc``, which shreds what is due (schedulable as ``rotate --due`` is)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from blocks import catalog
from blocks.cli.confirm import confirm, yes_option
from blocks.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    emit_rows,
    error,
    info,
    print_json,
    registry,
    wants_json,
)
from blocks.core import split_ref
from blocks.errors import BlockNotFound
from blocks.store.records import DeletedBlock


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rm`` and ``gc``."""
    p = subparsers.add_parser(
        "rm", help="delete a block (recoverable for a window, default 7 days; --now shreds)")
    p.add_argument("ref", metavar="SLUG/NAME", nargs="?")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--recovery-window", metavar="WINDOW",
                      help="how long 'blocks rm --undo' can bring it back: 0 (shred now) to "
                           "30d, e.g. 7d or 36h (default: BLOCKS_RECOVERY_WINDOW, 7d)")
    when.add_argument("--now", action="store_true",
                      help="shred at once: every version and its data keys (a block already "
                           "deleted and waiting too); cannot be undone")
    when.add_argument("--undo", action="store_true",
                      help="bring back a block deleted within its recovery window")
    when.add_argument("--list-deleted", action="store_true",
                      help="list the deleted blocks in their window, with their shred dates "
                           "(SLUG: only that type)")
    p.add_argument("--force", action="store_true",
                   help="delete even when work pools name the block in their templates")
    yes_option(p)
    p.set_defaults(handler=cmd_rm)

    p = subparsers.add_parser(
        "gc", help="shred the deleted blocks whose recovery window has passed",
        epilog="examples:\n  blocks gc\n  blocks gc --dry-run\n"
               "  17 3 * * * blocks gc --json >> /var/log/blocks-gc.json   # crontab: daily",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dry-run", action="store_true",
                   help="list what is due without shredding it")
    p.set_defaults(handler=cmd_gc)


def cmd_rm(args: argparse.Namespace) -> int:
    if args.list_deleted:
        slug = args.ref.partition("/")[0] if args.ref else None
        if slug:
            catalog.get(slug)
        return list_deleted(args, slug)
    if not args.ref:
        return _usage("give SLUG/NAME (or --list-deleted)")
    if args.undo:
        summary = registry(args).undelete(args.ref)
        if wants_json(args):
            print_json({"restored": summary.ref, "id": summary.id,
                        "current_version": summary.current_version})
        else:
            info(f"brought back {summary.ref} (version {summary.current_version}, same id)")
        return EXIT_OK
    return _delete(args)


def _delete(args: argparse.Namespace) -> int:
    from blocks.pools.usage import pools_using  # pools load only when a block is deleted

    reg = registry(args)
    window = reg.recovery_window(0 if args.now else args.recovery_window)
    slug, name = split_ref(args.ref)
    try:
        summary = reg.summary(args.ref)
    except BlockNotFound:
        if window:
            raise  # saying when it is already deleted
        confirm(args, f"shred the deleted {args.ref}",
                "All its versions and their data keys are destroyed; this cannot be undone.")
        reg.delete(args.ref, recovery_window=0)
        return _done(args, args.ref, None)
    users = pools_using(reg, args.ref)
    if users and not args.force:
        return error(
            f"{args.ref} is used by work pool(s) {', '.join(users)}: a {{{{ blocks.… }}}} "
            "placeholder in the base job template names it, so their runs would fail to "
            "resolve it. Remove the placeholder from those pools first (for a pool managed "
            "by Terraform: in its configuration, then terraform apply), or delete anyway "
            "with --force.")
    if window:
        confirm(args, f"delete {args.ref}",
                f"It leaves loads and lists now; 'blocks rm --undo {args.ref}' brings it back "
                f"within {_days(window.total_seconds())}, then 'blocks gc' shreds it.")
    else:
        confirm(args, f"delete {args.ref}",
                f"All its {summary.current_version} version(s) are destroyed.")
    reg.delete(args.ref, recovery_window=window)
    if not window:
        return _done(args, args.ref, None)
    shred = next((d for d in reg.deleted(slug) if d.name == name), None)
    return _done(args, args.ref, shred)


def _done(args: argparse.Namespace, ref: str, deleted: DeletedBlock | None) -> int:
    if wants_json(args):
        print_json({"deleted": ref, "shred_after": deleted.shred_after if deleted else None})
    elif deleted is None:
        info(f"deleted {ref} (shredded)")
    else:
        info(f"deleted {ref}; it is shredded after {_when(deleted)} ('blocks rm --undo {ref}' "
             "brings it back until then)")
    return EXIT_OK


def list_deleted(args: argparse.Namespace, slug: str | None) -> int:
    """Print the deleted blocks in their recovery window (``rm --list-deleted``, ``ls
    --deleted``)."""
    return emit_rows(args, registry(args).deleted(slug), _row,
                     ["TYPE", "NAME", "DELETED", "SHRED AFTER"],
                     lambda d: (d.type_slug, d.name, d.deleted_at, d.shred_after))


def _row(d: DeletedBlock) -> dict[str, Any]:
    return {"ref": d.ref, "id": d.id, "type": d.type_slug, "name": d.name,
            "deleted_at": d.deleted_at, "shred_after": d.shred_after}


def cmd_gc(args: argparse.Namespace) -> int:
    reg = registry(args)
    if args.dry_run:
        due = reg.gc(dry_run=True).due
        if wants_json(args):
            print_json({"due": [_row(d) for d in due]})
        else:
            for d in due:
                print(f"{d.ref}\t{_when(d)}")
            info(f"gc --dry-run: {len(due)} deleted block(s) due")
        return EXIT_OK
    result = reg.gc()
    if wants_json(args):
        print_json({"shredded": [_row(d) for d in result.shredded],
                    "waiting": [{**_row(d), "reason": why} for d, why in result.waiting]})
    else:
        for d in result.shredded:
            print(d.ref)
        for d, why in result.waiting:
            info(f"{d.ref} waits: {why}")
        info(f"gc: shredded {len(result.shredded)} deleted block(s)"
             + (f", {len(result.waiting)} waiting" if result.waiting else ""))
    return EXIT_ERROR if result.waiting else EXIT_OK


def _when(d: DeletedBlock) -> str:
    return d.shred_after.strftime("%Y-%m-%d %H:%M UTC")


def _days(seconds: float) -> str:
    if seconds % 86400 == 0:
        return f"{int(seconds // 86400)} day(s)"
    return f"{seconds / 3600:g} hour(s)"


def _usage(message: str) -> int:
    sys.stderr.write(f"usage error: {message}\n")
    return EXIT_USAGE
