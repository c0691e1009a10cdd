"""``blocks server init``, ``blocks tokens ...`` and ``blocks policies ...``: the API tokens
and access policies of ``blocks server`` (docs/tokens-and-policies.md).

They work on the server's database (``BLOCKS_DATABASE_URL`` and the master key), or through
the server at ``BLOCKS_API_URL`` with an admin ``BLOCKS_API_TOKEN`` (``server init`` only on
the database: it makes the first admin token). A token is printed once, on stdout, when it
is created; nothing prints it again (``tokens ls`` shows names, ids, owners, policies,
expiry and last use).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from blocks.access import policies as policy_docs
from blocks.access.admin import AccessAdmin
from blocks.access.store import AccessStore
from blocks.access.tokens import TokenInfo, parse_ttl
from blocks.cli.confirm import confirm, yes_option
from blocks.cli.output import (
    EXIT_OK,
    command_group,
    emit_rows,
    key_provider_option,
    local_registry,
    print_json,
    read_source,
    registry,
    wants_json,
)
from blocks.cli.server_cmds import server_group

_SHOWN_ONCE = ("this is the only time the token is shown: store it now (a secret manager, "
               "or BLOCKS_API_TOKEN in the client's environment)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks server init``, ``blocks tokens ...`` and ``blocks policies ...``."""
    # The ``server`` group is shared with ``server run`` (server_cmds.py).
    add_server_init(server_group(subparsers))
    _tokens(subparsers)
    _policies(subparsers)


def add_server_init(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` to the ``blocks server`` group."""
    p = sub.add_parser(
        "init", help="before the first 'blocks server run': create the admin policy and the "
                     "first admin token (printed once)",
        epilog="examples:\n  blocks server init\n  blocks server init --owner ops@example.com "
               "--json",
    )
    p.add_argument("--owner", default="", metavar="WHO", help="who holds the admin token")
    key_provider_option(p)
    p.set_defaults(handler=cmd_server_init)


def _tokens(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = command_group(subparsers, "tokens", "API tokens of blocks server: create, ls, revoke",
                        dest="tokens_command", metavar="TOKENS_COMMAND", key_provider=True)
    p = sub.add_parser("create", help="create a token with policies (printed once)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--policy", action="append", required=True, metavar="P",
                   help="a policy the token holds (repeat for several)")
    p.add_argument("--ttl", metavar="DURATION", help="expires after e.g. 12h, 30d, 2w "
                                                     "(default: never)")
    p.add_argument("--owner", default="", metavar="WHO", help="who holds it (free text)")
    p.set_defaults(handler=cmd_tokens_create)
    p = sub.add_parser("ls", help="list tokens (never the tokens themselves)")
    p.set_defaults(handler=cmd_tokens_ls)
    p = sub.add_parser("revoke", help="revoke a token at once, on every server replica")
    p.add_argument("token", metavar="NAME|ID")
    yes_option(p)
    p.set_defaults(handler=cmd_tokens_revoke)


def _policies(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = command_group(subparsers, "policies",
                        "access policies of blocks server: put, get, ls, rm",
                        dest="policies_command", metavar="POLICIES_COMMAND", key_provider=True)
    p = sub.add_parser("put", help="create or replace a policy from a JSON file")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--file", required=True, metavar="FILE",
                   help="the policy document ('-' for stdin)")
    p.set_defaults(handler=cmd_policies_put)
    p = sub.add_parser("get", help="print a policy's document")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_policies_get)
    p = sub.add_parser("ls", help="list policies")
    p.set_defaults(handler=cmd_policies_ls)
    p = sub.add_parser("rm", help="delete a policy (refused while a token uses it)")
    p.add_argument("name", metavar="NAME")
    yes_option(p)
    p.set_defaults(handler=cmd_policies_rm)


def _access(args: argparse.Namespace) -> AccessAdmin:
    """Tokens and policies of the server's database, or through the server at BLOCKS_API_URL
    (with an admin token)."""
    return registry(args).access()


def _print_token(args: argparse.Namespace, token: str, info: TokenInfo) -> None:
    if wants_json(args):
        print_json({"token": token, **info.to_json(datetime.now(UTC))})
    else:
        sys.stdout.write(token + "\n")
    sys.stderr.write(f"created token {info.name!r} (id {info.id}, policies "
                     f"{', '.join(info.policies)}"
                     + (f", expires {info.expires_at:%Y-%m-%d %H:%M:%S} UTC" if info.expires_at
                        else "") + f"); {_SHOWN_ONCE}\n")


def cmd_server_init(args: argparse.Namespace) -> int:
    reg = local_registry(args)  # before the server runs: on its database
    token, info = AccessStore(reg.store, reg.sealer).initialize(owner=args.owner)
    sys.stderr.write("created the access policy 'admin' (everything)\n")
    _print_token(args, token, info)
    return EXIT_OK


def cmd_tokens_create(args: argparse.Namespace) -> int:
    ttl = parse_ttl(args.ttl) if args.ttl is not None else None
    token, info = _access(args).create_token(args.name, args.policy, owner=args.owner, ttl=ttl)
    _print_token(args, token, info)
    return EXIT_OK


def cmd_tokens_ls(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    return emit_rows(
        args, _access(args).list_tokens(), lambda t: t.to_json(now),
        ["NAME", "ID", "OWNER", "POLICIES", "STATE", "EXPIRES", "LAST USED"],
        lambda t: [t.name, t.id, t.owner or None, ",".join(t.policies), t.state(now),
                   t.expires_at, t.last_used_at],
    )


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    access = _access(args)
    confirm(args, f"revoke API token {args.token}", "clients using it get 401 at once.")
    info = access.revoke(args.token)
    if wants_json(args):
        print_json(info.to_json(datetime.now(UTC)))
    sys.stderr.write(f"revoked token {info.name!r} (id {info.id})\n")
    return EXIT_OK


def cmd_policies_put(args: argparse.Namespace) -> int:
    text = read_source(args.file, f"policy {args.name}")
    policy = policy_docs.loads(args.name, text if isinstance(text, str) else text.decode(
        "utf-8", errors="replace"))
    created = _access(args).put_policy(args.name, policy)
    if wants_json(args):
        print_json({"name": args.name, "created": created})
    sys.stderr.write(f"{'created' if created else 'replaced'} access policy {args.name!r}\n")
    return EXIT_OK


def cmd_policies_get(args: argparse.Namespace) -> int:
    policy = _access(args).get_policy(args.name)
    print_json(dict(policy.document))
    return EXIT_OK


def cmd_policies_ls(args: argparse.Namespace) -> int:
    found = _access(args).policies()
    return emit_rows(
        args, sorted(found.values(), key=lambda p: p.name),
        lambda p: {"name": p.name, "document": dict(p.document)},
        ["NAME", "ADMIN", "BLOCKS", "POOLS", "DESCRIPTION"],
        lambda p: [p.name, "yes" if p.admin else "no",
                   ",".join(p.document.get("blocks", {})) or None,
                   ",".join(p.document.get("pools", {})) or None,
                   p.document.get("description") or None],
    )


def cmd_policies_rm(args: argparse.Namespace) -> int:
    access = _access(args)
    confirm(args, f"delete access policy {args.name}")
    access.remove_policy(args.name)
    sys.stderr.write(f"deleted access policy {args.name!r}\n")
    return EXIT_OK
