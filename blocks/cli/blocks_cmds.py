"""Block commands: init, types, ls, inspect, save, mv, history, rollback (rm and gc:
``recovery_cmds``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from blocks import catalog
from blocks.cli import readonly
from blocks.cli.output import (
    EXIT_OK,
    emit_rows,
    error,
    info,
    key_provider_option,
    print_json,
    provider_settings_lines,
    read_source,
    registry,
    version_number,
    wants_json,
)
from blocks.cli.recovery_cmds import list_deleted
from blocks.cli.rotation_cmds import print_events, rotation_events
from blocks.cli.schema_table import print_type
from blocks.codec import parse_json, to_display
from blocks.core import split_ref
from blocks.registry import local
from blocks.store.engine import display_url
from blocks.store.records import BlockSummary, VersionInfo


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the block commands."""
    p = subparsers.add_parser("init", help="create the database, master key and keyring")
    key_provider_option(p)
    p.set_defaults(handler=cmd_init)

    p = subparsers.add_parser("types", help="list block types, or show one type's schema")
    p.add_argument("slug", nargs="?", help="type slug, e.g. s3-bucket")
    p.set_defaults(handler=cmd_types)

    p = subparsers.add_parser("ls", help="list blocks")
    p.add_argument("slug", nargs="?", help="only blocks of this type")
    p.add_argument("--deleted", action="store_true",
                   help="list the deleted blocks in their recovery window, with shred dates")
    p.set_defaults(handler=cmd_ls)

    p = subparsers.add_parser("inspect", help="show a block (secrets masked)")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--version", type=int, help="an earlier version (default: current)")
    p.add_argument("--show-secrets", action="store_true", help="print secret values in clear")
    p.set_defaults(handler=cmd_inspect)

    p = subparsers.add_parser("save", help="validate and save a block from a JSON document")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--file", "-f", required=True, metavar="FILE",
                   help="JSON document with the block's fields ('-' for stdin); nested blocks as "
                        '{"$ref": "slug/name"}')
    p.add_argument("--overwrite", action="store_true", help="add a version to an existing block")
    p.add_argument("--expected-version", type=version_number, metavar="N",
                   help="compare-and-set: fail unless the current version is N (0: must be new)")
    p.set_defaults(handler=cmd_save)

    p = subparsers.add_parser(
        "mv", help="rename a block (same id, history kept, references follow)"
    )
    p.add_argument("ref", metavar="SLUG/OLD")
    p.add_argument("new_name", metavar="NEW")
    p.add_argument("--expected-version", type=version_number, metavar="N",
                   help="compare-and-set on the current version")
    p.set_defaults(handler=cmd_mv)

    p = subparsers.add_parser("history", help="list a block's versions")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.set_defaults(handler=cmd_history)

    p = subparsers.add_parser("rollback", help="make an earlier version current again")
    p.add_argument("ref", metavar="SLUG/NAME")
    p.add_argument("--version", type=int, required=True, metavar="N", help="version to restore")
    p.add_argument("--expected-version", type=version_number, metavar="N",
                   help="compare-and-set on the current version")
    p.set_defaults(handler=cmd_rollback)


def cmd_init(args: argparse.Namespace) -> int:
    reg = local(registry(args), "blocks init")
    found = readonly.exists(reg)
    reg.init()
    keyring = reg.keyring
    out = {
        "created": not found,
        "database": display_url(reg.store.url),
        "schema_revision": reg.store.schema_revision(),
        "key_provider": keyring.provider.name,
        "key_id": keyring.provider.key_id,
        "current_term": keyring.current_term,
    }
    if wants_json(args):
        print_json(out)
    else:
        print(f"{'found the existing' if found else 'created a new'} registry")
        for k, v in out.items():
            if k != "created":
                print(f"{k}: {v}")
    if args.key_provider is not None:
        info("the master key is not stored in the database; configure every process with:")
        for line in provider_settings_lines(reg.settings):
            info(f"  {line}")
    return EXIT_OK


def cmd_types(args: argparse.Namespace) -> int:
    if args.slug:
        schema = catalog.get(args.slug).block_schema()
        if wants_json(args):
            print_json(schema)
        else:
            print_type(schema)
        return EXIT_OK
    schemas = [cls.block_schema() for cls in catalog.all_types().values()]
    return emit_rows(args, schemas, _type_row, ["TYPE", "TITLE", "SECRET FIELDS"],
                     lambda s: (s["slug"], s["title"], ", ".join(s["secret_fields"]) or "-"))


def _type_row(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: schema[k] for k in ("slug", "title", "description", "version", "checksum",
                                   "secret_fields", "block_references")}


def cmd_ls(args: argparse.Namespace) -> int:
    if args.slug:
        catalog.get(args.slug)
    if args.deleted:
        return list_deleted(args, args.slug)
    return emit_rows(args, registry(args).list(args.slug), _summary,
                     ["TYPE", "NAME", "VERSION", "UPDATED"],
                     lambda b: (b.type_slug, b.name, b.current_version, b.updated_at))


def _summary(b: BlockSummary) -> dict[str, Any]:
    return {"ref": b.ref, "id": b.id, "type": b.type_slug, "name": b.name,
            "current_version": b.current_version, "created_at": b.created_at,
            "updated_at": b.updated_at}


def cmd_inspect(args: argparse.Namespace) -> int:
    reg = registry(args)
    block = reg.load(args.ref, version=args.version)
    summary = reg.summary(args.ref)
    out = {
        "ref": summary.ref,
        "id": summary.id,
        "type": summary.type_slug,
        "version": block.block_version,
        "current_version": summary.current_version,
        "secret_fields": list(type(block).secret_paths()),
        "data": to_display(block, show_secrets=args.show_secrets),
    }
    if wants_json(args):
        print_json(out)
    else:
        print(f"{out['ref']}  version {out['version']} of {out['current_version']}  "
              f"(id {out['id']})")
        print(json.dumps(out["data"], indent=2, sort_keys=True))
    return EXIT_OK


def cmd_save(args: argparse.Namespace) -> int:
    slug, name = split_ref(args.ref)
    data = parse_json(read_source(args.file, args.ref), args.ref,
                      source="stdin" if args.file == "-" else args.file)
    reg = registry(args)
    block = reg.parse(slug, data, ref=args.ref)
    saved = reg.save(block, name, overwrite=args.overwrite,
                     expected_version=args.expected_version)
    if wants_json(args):
        print_json(_version(saved))
    else:
        info(f"saved {saved.ref} version {saved.version}")
    return EXIT_OK


def cmd_mv(args: argparse.Namespace) -> int:
    new_name = args.new_name
    if "/" in new_name:  # 'blocks mv secret/a secret/b' reads naturally too
        slug, _ = split_ref(args.ref)
        new_slug, new_name = split_ref(new_name)
        if new_slug != slug:
            return error(f"a block's type cannot change ({args.ref} is a {slug}); "
                         f"give the new name only: blocks mv {args.ref} {new_name}")
    renamed = registry(args).rename(args.ref, new_name,
                                    expected_version=args.expected_version)
    if wants_json(args):
        print_json({"renamed": args.ref, **_summary(renamed)})
    else:
        info(f"renamed {args.ref} to {renamed.ref}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    reg = registry(args)
    versions = reg.history(args.ref)
    stage_of = {v: s for s, v in reg.stages(args.ref).items()}
    if wants_json(args):
        print_json([{**_version(v), "stage": stage_of.get(v.version)} for v in versions])
        return EXIT_OK
    events = rotation_events(reg, args.ref)
    emit_rows(args, versions, _version, ["VERSION", "STAGE", "CREATED", "TERM", "NOTE"],
              lambda v: (v.version, stage_of.get(v.version), v.created_at, v.term,
                         "purged" if v.shredded else v.note))
    if events:
        print("\nrotation:")
        print_events(events)
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    saved = registry(args).rollback(args.ref, args.version,
                                    expected_version=args.expected_version)
    if wants_json(args):
        print_json(_version(saved))
    else:
        info(f"{saved.ref}: version {saved.version} restores version {args.version}")
    return EXIT_OK


def _version(v: VersionInfo) -> dict[str, Any]:
    return {"ref": v.ref, "id": v.block_id, "version": v.version, "created_at": v.created_at,
            "term": v.term, "schema_checksum": v.schema_checksum, "note": v.note,
            "purged": v.shredded}
