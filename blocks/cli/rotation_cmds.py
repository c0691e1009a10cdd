"""Rotation commands: ``blocks rotate`` and ``blocks rotation ls|set|show|unset``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from blocks.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    emit_rows,
    error,
    info,
    local_registry,
    print_json,
    print_table,
    wants_json,
)
from blocks.errors import ValidationError

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol
    from blocks.rotation import Event, Outcome, PolicyRecord, Rotation


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rotate`` and ``rotation``."""
    p = subparsers.add_parser(
        "rotate", help="rotate a block's credential, or whatever is due (--due, for cron)",
        description="Rotate SLUG/NAME if due (--now: regardless), resuming an interrupted "
        "rotation; --due rotates, resumes or revokes everything due and exits 1 if any "
        "rotation failed; --cancel rolls back a rotation in flight.",
    )
    p.add_argument("ref", nargs="?", metavar="SLUG/NAME")
    p.add_argument("--now", action="store_true", help="rotate even if not due")
    p.add_argument("--due", action="store_true", help="rotate every block that is due")
    p.add_argument("--cancel", action="store_true",
                   help="roll back the rotation in flight (upstream accepts current again)")
    p.set_defaults(handler=cmd_rotate)

    rot = subparsers.add_parser("rotation", help="rotation policies, state and history")
    sub = rot.add_subparsers(dest="rotation_command", metavar="SUBCOMMAND")
    sub.required = True
    p = sub.add_parser("ls", help="blocks with a rotation policy: schedule, last, next, state")
    p.set_defaults(handler=cmd_ls)
    p = sub.add_parser("set", help="set (or replace) a block's rotation policy")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--rotator", required=True,
                   help="generated, aws-iam-access-key, postgres-password, vault-kv or a plug-in")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--every", metavar="DURATION", help="interval, e.g. 30d, 12h, 90s")
    when.add_argument("--cron", metavar="EXPR", help="cron expression in UTC, e.g. '0 3 * * 1'")
    p.add_argument("--grace", metavar="DURATION", default=None,
                   help="how long the previous credential keeps working (default 1d; 0s: none)")
    p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="rotator option (VALUE is JSON if it parses, else a string); repeatable")
    p.set_defaults(handler=cmd_set)
    p = sub.add_parser("show", help="a block's policy, state and rotation history")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.set_defaults(handler=cmd_show)
    p = sub.add_parser("unset", help="stop rotating a block (its history stays)")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.set_defaults(handler=cmd_unset)


def _rotation(args: argparse.Namespace) -> Rotation:
    from blocks.rotation import Rotation, default_actor

    return Rotation(local_registry(args), actor=default_actor("cli"))


def _outcome(o: Outcome) -> dict[str, Any]:
    return {"ref": o.ref, "status": o.status, "version": o.version, "step": o.step,
            "error": o.error, "run_id": o.run_id}


def cmd_rotate(args: argparse.Namespace) -> int:
    modes = sum([bool(args.due), bool(args.cancel), bool(args.now)])
    if args.due and (args.ref or args.cancel or args.now):
        return _usage("--due takes no SLUG/NAME, --now or --cancel")
    if not args.due and not args.ref:
        return _usage("give SLUG/NAME or --due")
    if args.cancel and modes > 1:
        return _usage("--cancel cannot be combined with --now")
    rot = _rotation(args)
    if args.due:
        return _rotate_due(args, rot)
    outcome = rot.cancel(args.ref) if args.cancel else rot.rotate(args.ref, force=args.now)
    if wants_json(args):
        print_json(_outcome(outcome))
    elif outcome.failed:
        pass
    else:
        info(_sentence(outcome))
    if outcome.failed:
        return error(f"{outcome.ref}: rotation failed at {outcome.step}: {outcome.error}")
    return EXIT_OK


def _sentence(o: Outcome) -> str:
    return {
        "rotated": f"rotated {o.ref}: version {o.version} is current",
        "cancelled": f"cancelled the rotation of {o.ref}: version {o.version} stays current",
        "not-due": f"{o.ref} is not due for rotation (use --now to rotate anyway)",
        "revoked": f"{o.ref}: revoked the previous credential",
        "busy": f"{o.ref}: another process is rotating it; skipped",
    }.get(o.status, f"{o.ref}: {o.status}") + (f" ({o.error})" if o.error else "")


def _rotate_due(args: argparse.Namespace, rot: Rotation) -> int:
    tty = sys.stderr.isatty() and not wants_json(args)

    def progress(done: int, total: int, outcome: Outcome) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\rrotating [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    outcomes = rot.rotate_due(progress if tty else None)
    failed = [o for o in outcomes if o.failed]
    if wants_json(args):
        print_json(_outcome_list(outcomes))
    else:
        print_table(["BLOCK", "STATUS", "VERSION", "ERROR"],
                    [(o.ref, o.status, o.version, o.error) for o in outcomes])
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing due"
        info(f"rotate --due: {summary}")
    return EXIT_ERROR if failed else EXIT_OK


def _outcome_list(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [_outcome(o) for o in outcomes]


def _usage(message: str) -> int:
    sys.stderr.write(f"usage error: {message}\n")
    return EXIT_USAGE


def _status(ref: str, rec: PolicyRecord, last: Event | None) -> dict[str, Any]:
    return {
        "ref": ref, "rotator": rec.policy.rotator, "schedule": rec.policy.schedule(),
        "grace_seconds": rec.policy.grace.total_seconds(), "options": rec.policy.options,
        "last_rotated_at": rec.last_rotated_at, "next_due_at": rec.next_due_at,
        "state": rec.state, "step": rec.run.step if rec.run else None,
        "last_event": None if last is None else _event(last), "last_error": rec.last_error,
        "revoke_due_at": rec.revoke_due_at,
    }


def _event(e: Event) -> dict[str, Any]:
    return {"at": e.at, "actor": e.actor, "step": e.step, "outcome": e.outcome,
            "versions": e.versions, "run_id": e.run_id, "error": e.error}


def cmd_ls(args: argparse.Namespace) -> int:
    rot = _rotation(args)
    refs = {b.id: b.ref for b in rot.registry.list()}
    rows = []
    for rec in sorted(rot.store.all(), key=lambda r: refs.get(r.block_id, "")):
        if rec.block_id in refs:
            last = rot.store.events(rec.block_id, limit=1)
            rows.append(_status(refs[rec.block_id], rec, last[0] if last else None))
    return emit_rows(
        args, rows, lambda r: r,
        ["BLOCK", "ROTATOR", "SCHEDULE", "LAST ROTATED", "NEXT DUE", "STATE", "LAST STEP",
         "LAST ERROR"],
        lambda r: (r["ref"], r["rotator"], r["schedule"], r["last_rotated_at"],
                   r["next_due_at"], r["state"] + (f" ({r['step']})" if r["step"] else ""),
                   _last_step(r["last_event"]), r["last_error"]),
    )


def _last_step(event: dict[str, Any] | None) -> str:
    if event is None:
        return "-"
    return f"{event['step']} {event['outcome']} by {event['actor']}"


def cmd_set(args: argparse.Namespace) -> int:
    import pydantic

    from blocks.core import pydantic_errors
    from blocks.rotation import RotationPolicy

    options: dict[str, Any] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            return _usage(f"--option takes KEY=VALUE, got {item[:40]!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    fields: dict[str, Any] = {"rotator": args.rotator, "options": options}
    if args.every:
        fields["interval"] = args.every
    if args.cron:
        fields["cron"] = args.cron
    if args.grace is not None:
        fields["grace"] = args.grace
    try:
        policy = RotationPolicy.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"rotation policy of {args.ref}", pydantic_errors(exc)) from None
    rec = _rotation(args).set_policy(args.ref, policy)
    if wants_json(args):
        print_json(_status(args.ref, rec, None))
    else:
        due = rec.next_due_at.strftime("%Y-%m-%d %H:%M:%S") if rec.next_due_at else "manual"
        info(f"{args.ref}: rotates with {policy.rotator}, {policy.schedule()}; next due {due}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    rot = _rotation(args)
    rec = rot.policy(args.ref)
    if rec is None:
        return error(f"{args.ref} has no rotation policy; see 'blocks rotation set --help'")
    events = rot.store.events(rec.block_id)
    if wants_json(args):
        out = _status(args.ref, rec, events[-1] if events else None)
        out["stages"] = rot.registry.stages(args.ref)
        out["events"] = [_event(e) for e in events]
        print_json(out)
        return EXIT_OK
    status = _status(args.ref, rec, None)
    for key in ("ref", "rotator", "schedule", "grace_seconds", "options", "state", "step",
                "last_rotated_at", "next_due_at", "revoke_due_at", "last_error"):
        print(f"{key}: {status[key] if status[key] is not None else '-'}")
    print(f"stages: {rot.registry.stages(args.ref)}")
    print_events(events)
    return EXIT_OK


def print_events(events: list[Event]) -> None:
    """The rotation audit as a table."""
    print_table(["WHEN", "WHO", "STEP", "OUTCOME", "VERSIONS", "RUN", "ERROR"],
                [(e.at, e.actor, e.step, e.outcome, e.versions, e.run_id[:8], e.error)
                 for e in events])


def rotation_events(reg: RegistryProtocol, ref: str) -> list[Event]:
    """The block's rotation audit (empty if it never rotated)."""
    return reg.rotation().events(ref)


def cmd_unset(args: argparse.Namespace) -> int:
    if not _rotation(args).drop_policy(args.ref):
        return error(f"{args.ref} has no rotation policy")
    info(f"{args.ref}: rotation policy removed (its history is kept)")
    return EXIT_OK
