"""Work-pool commands: ``blocks pools ls|inspect|create|update|pause|resume|rm|history|
default-template|render``; ``blocks pools queues ...`` is in :mod:`blocks.cli.pool_queues`.

Rendered jobs hold resolved secrets; they are printed masked unless ``--show-secrets``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from blocks import codec
from blocks.cli import pool_queues, pool_settings
from blocks.cli.output import (
    EXIT_OK,
    command_group,
    emit_rows,
    info,
    print_json,
    read_source,
    registry,
    wants_json,
)
from blocks.codec import parse_json
from blocks.core import validate_name
from blocks.errors import ValidationError
from blocks.pools import (
    DEFAULT_QUEUE,
    POOL_TYPES,
    WorkPool,
    default_base_job_template,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks pools`` and its sub-commands."""
    sub = command_group(subparsers, "pools", "work pools and their queues",
                        dest="pools_command")

    p = sub.add_parser("ls", help="list work pools")
    p.set_defaults(handler=cmd_ls)

    p = sub.add_parser("inspect", help="show a pool: settings, base job template, queues")
    p.add_argument("name")
    p.add_argument("--version", type=int, metavar="N", help="an earlier version")
    p.set_defaults(handler=cmd_inspect)

    p = sub.add_parser("create", help="create a work pool (with its default queue)")
    p.add_argument("name")
    p.add_argument("--type", required=True, choices=POOL_TYPES, help="infrastructure type")
    _pool_options(p)
    p.add_argument("--paused", action="store_true", help="create it paused")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the settings of an existing pool of the same type")
    p.set_defaults(handler=cmd_create)

    pool_settings.add_update(sub, "pool", ["name"], _pool_options, cmd_update,
                             "change a pool's settings (name and type are fixed)")
    pool_settings.add_pause_resume(sub, "work pool", ["name"], cmd_pause)

    p = sub.add_parser("rm", help="delete a work pool with its queues and versions")
    p.add_argument("name")
    p.set_defaults(handler=cmd_rm)

    p = sub.add_parser("mv", help="rename a work pool (same id; history and queues follow)")
    p.add_argument("name", metavar="OLD")
    p.add_argument("new_name", metavar="NEW")
    p.set_defaults(handler=cmd_mv)

    p = sub.add_parser("history", help="list a pool's versions")
    p.add_argument("name")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("default-template", help="print a type's default base job template")
    p.add_argument("type", choices=POOL_TYPES)
    p.set_defaults(handler=cmd_default_template)

    p = sub.add_parser("render", help="render the job a worker would run (secrets masked)")
    p.add_argument("name")
    p.add_argument("--queue", default=DEFAULT_QUEUE, help="queue (default: default)")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a job variable; VALUE is JSON, or else a plain string (repeatable)")
    p.add_argument("--values", metavar="FILE", help="JSON object of job variables ('-': stdin)")
    p.add_argument("--show-secrets", action="store_true",
                   help="print resolved secrets in clear")
    p.set_defaults(handler=cmd_render)

    pool_queues.register(sub)


def _pool_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--description", help="what the pool is for")
    p.add_argument("--base-job-template", metavar="FILE",
                   help="JSON {job_configuration, variables} ('-': stdin); default: the type's")
    p.add_argument("--concurrency-limit", type=int, metavar="N", help="most runs in flight")


# -- pools ----------------------------------------------------------------------------------


def cmd_ls(args: argparse.Namespace) -> int:
    return emit_rows(
        args, WorkPool.list_pools(registry=registry(args)), _pool_summary,
        ["NAME", "TYPE", "VERSION", "PAUSED", "CONCURRENCY", "UPDATED"],
        lambda p: (p.name, p.type, p.version, p.is_paused, p.concurrency_limit, p.updated_at),
    )


def cmd_inspect(args: argparse.Namespace) -> int:
    reg = registry(args)
    pool = WorkPool.load(args.name, version=args.version, registry=reg)
    current = WorkPool.load(args.name, registry=reg).version
    out = {
        **_pool_summary(pool),
        "current_version": current,
        "description": pool.description,
        "base_job_template": pool.base_job_template,
        "queues": [pool_queues.queue_dict(q) for q in pool.queues()],
    }
    if wants_json(args):
        print_json(out)
    else:
        print(f"{pool.name}  ({pool.type})  version {pool.version} of {current}"
              f"{'  PAUSED' if pool.is_paused else ''}")
        if pool.description:
            print(pool.description)
        print("queues: " + ", ".join(f"{q['name']} (priority {q['priority']})"
                                     for q in out["queues"]))
        print(json.dumps(pool.base_job_template, indent=2))
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {"name": args.name, "type": args.type, "is_paused": args.paused}
    if args.description is not None:
        fields["description"] = args.description
    if args.concurrency_limit is not None:
        fields["concurrency_limit"] = args.concurrency_limit
    if args.base_job_template:
        fields["base_job_template"] = _read_json(args.base_job_template, f"work-pool/{args.name}")
    pool = WorkPool(**fields).save(overwrite=args.overwrite, registry=registry(args))
    return _saved(args, pool, "created" if pool.version == 1 else "updated")


def cmd_update(args: argparse.Namespace) -> int:
    pool = WorkPool.load(args.name, registry=registry(args))
    pool_settings.apply_update(pool, args)
    if args.base_job_template:
        pool.base_job_template = _read_json(args.base_job_template, f"work-pool/{args.name}")
    pool.save(expected_version=args.expected_version)
    return _saved(args, pool, "updated")


def cmd_pause(args: argparse.Namespace) -> int:
    pool = WorkPool.load(args.name, registry=registry(args))
    (pool.pause if args.paused else pool.resume)()
    return _saved(args, pool, "paused" if args.paused else "resumed")


def cmd_rm(args: argparse.Namespace) -> int:
    WorkPool.delete(args.name, registry=registry(args))
    if wants_json(args):
        print_json({"deleted": args.name})
    else:
        info(f"deleted work pool {args.name}")
    return EXIT_OK


def cmd_mv(args: argparse.Namespace) -> int:
    pool = WorkPool.rename(args.name, args.new_name, registry=registry(args))
    if wants_json(args):
        print_json({"renamed": args.name, **_pool_summary(pool)})
    else:
        info(f"renamed work pool {args.name} to {pool.name}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    return emit_rows(
        args, WorkPool.history(args.name, registry=registry(args)), _pool_summary,
        ["VERSION", "SAVED", "PAUSED", "CONCURRENCY"],
        lambda p: (p.version, p.updated_at, p.is_paused, p.concurrency_limit),
    )


def cmd_default_template(args: argparse.Namespace) -> int:
    print_json(default_base_job_template(args.type))
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    ref = f"work-pool/{args.name}"
    values: dict[str, Any] = {}
    if args.values:
        loaded = _read_json(args.values, ref)
        if not isinstance(loaded, dict):
            raise ValidationError(ref, [("job_variables", "--values must be a JSON object")])
        values.update(loaded)
    for item in args.var:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValidationError(ref, [("job_variables", "--var takes NAME=VALUE")])
        values[name] = _json_or_text(text, ref, name)
    # Rendered where the pool is stored: through a blocks server, a token that may see only
    # masked jobs can render, and secrets cross the wire only with --show-secrets.
    view = registry(args).pool_store().render(
        validate_name(args.name, "work pool name"), values, queue=args.queue,
        show_secrets=args.show_secrets,
    )
    if wants_json(args):
        print_json({"pool": view.pool, "queue": view.queue, "type": view.pool_type,
                    "secrets_masked": view.secrets_masked,
                    "configuration": view.configuration})
    else:
        print(json.dumps(view.configuration, indent=2))
    return EXIT_OK


# -- helpers --------------------------------------------------------------------------------


def _pool_summary(pool: WorkPool) -> dict[str, Any]:
    return {"name": pool.name, "type": pool.type, "version": pool.version,
            "is_paused": pool.is_paused, "concurrency_limit": pool.concurrency_limit,
            "created_at": pool.created_at, "updated_at": pool.updated_at}


def _saved(args: argparse.Namespace, pool: WorkPool, verb: str) -> int:
    if wants_json(args):
        print_json({**_pool_summary(pool), "description": pool.description,
                    "base_job_template": pool.base_job_template})
    else:
        info(f"{verb} work pool {pool.name} ({pool.type}), version {pool.version}")
    return EXIT_OK


def _read_json(source: str, ref: str) -> Any:
    return parse_json(read_source(source, ref), ref,
                      source="stdin" if source == "-" else source)


def _json_or_text(text: str, ref: str, name: str) -> Any:
    """A ``--var`` value: JSON when it parses as JSON, else the text itself."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        problem = codec.json_problem(text, f"job_variables.{name}")
        if problem is not None:
            raise ValidationError(ref, [problem]) from None
        return text
    except (RecursionError, ValueError):
        pass  # JSON, but not a value we accept: parse_json says why
    return parse_json(text, ref, source=f"--var {name}")
