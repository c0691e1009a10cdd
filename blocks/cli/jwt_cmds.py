"""``blocks auth jwt issuer|role put|get|ls|rm``: the machine identities of ``blocks server``
(docs/machine-identities.md).

They work on the server's database (``BLOCKS_DATABASE_URL`` and the master key), or through
the server at ``BLOCKS_API_URL`` with an admin ``BLOCKS_API_TOKEN``. An issuer's keys come
from ``--jwks-url`` (fetched by the server) or ``--jwks-file`` (read here and kept in the
issuer's sealed record); a document can also be given whole with ``--file``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from blocks.access.jwt_config import ALGORITHMS, DEFAULT_ALGORITHMS, Issuer, Role
from blocks.access.jwt_store import JwtAdmin, not_found, parse
from blocks.cli.confirm import confirm, yes_option
from blocks.cli.output import (
    EXIT_OK,
    emit_rows,
    key_provider_option,
    print_json,
    read_source,
    registry,
    wants_json,
)
from blocks.codec import parse_json
from blocks.errors import InvalidArgument

_ISSUER_EXAMPLES = (
    "examples:\n"
    "  blocks auth jwt issuer put k8s --issuer https://kubernetes.default.svc.cluster.local \\\n"
    "      --jwks-url https://k8s.example.com/openid/v1/jwks --audience blocks\n"
    "  blocks auth jwt issuer put k8s --issuer https://kubernetes.default.svc.cluster.local \\\n"
    "      --jwks-file jwks.json --audience blocks --algorithm RS256\n"
    "  blocks auth jwt issuer put github --file github-issuer.json")
_ROLE_EXAMPLES = (
    "examples:\n"
    "  blocks auth jwt role put etl-worker --issuer k8s --policy etl-read \\\n"
    "      --bound-claim kubernetes.io.namespace=etl \\\n"
    "      --bound-claim kubernetes.io.serviceaccount.name=worker --ttl 15m\n"
    "  blocks auth jwt role put deploy --issuer github --policy deploy \\\n"
    "      --bound-claim 'repository=acme/*' --bound-subject 'repo:acme/app:ref:refs/heads/main'")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks auth jwt ...``."""
    auth = subparsers.add_parser(
        "auth", help="how machines log in to blocks server: trusted JWT issuers and roles",
        epilog="examples:\n  blocks auth jwt issuer ls\n  blocks auth jwt role ls --json")
    key_provider_option(auth)
    methods = auth.add_subparsers(dest="auth_command", metavar="AUTH_COMMAND")
    methods.required = True
    jwt = methods.add_parser(
        "jwt", help="exchange a platform's JWT (Kubernetes, CI OIDC) for a short-lived token",
        epilog="examples:\n  blocks auth jwt issuer ls\n  blocks auth jwt role get etl-worker")
    kinds = jwt.add_subparsers(dest="jwt_command", metavar="JWT_COMMAND")
    kinds.required = True
    _kind(kinds, "issuer", "trusted issuers: their iss, keys, audiences, algorithms",
          _ISSUER_EXAMPLES, _issuer_options)
    _kind(kinds, "role", "roles: which claims of an issuer's JWTs get which policies",
          _ROLE_EXAMPLES, _role_options)


def _kind(kinds: argparse._SubParsersAction[argparse.ArgumentParser], kind: str, text: str,
          examples: str, options: Any) -> None:
    group = kinds.add_parser(kind, help=text, epilog=examples)
    sub = group.add_subparsers(dest=f"jwt_{kind}_command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("put", help=f"create or replace a{'n' if kind == 'issuer' else ''} "
                                   f"{kind}", epilog=examples)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--file", metavar="FILE", help=f"the {kind} as a JSON document ('-' for "
                                                   "stdin) instead of the options below")
    p.add_argument("--description", metavar="TEXT", help="what it is for")
    options(p)
    p.set_defaults(handler=cmd_put, jwt_kind=kind)
    p = sub.add_parser("get", help=f"print a{'n' if kind == 'issuer' else ''} {kind}'s "
                                   "document", epilog=f"examples:\n  blocks auth jwt {kind} get "
                                                      + ("k8s" if kind == "issuer" else
                                                         "etl-worker"))
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_get, jwt_kind=kind)
    p = sub.add_parser("ls", help=f"list {kind}s", epilog=f"examples:\n  blocks auth jwt {kind} "
                                                          f"ls\n  blocks auth jwt {kind} ls --json")
    p.set_defaults(handler=cmd_ls, jwt_kind=kind)
    p = sub.add_parser("rm", help=f"delete a{'n' if kind == 'issuer' else ''} {kind}"
                                  + (" (refused while a role names it)" if kind == "issuer"
                                     else " (its tokens stop working at once)"),
                       epilog=f"examples:\n  blocks auth jwt {kind} rm "
                              + ("k8s --yes" if kind == "issuer" else "etl-worker --yes"))
    p.add_argument("name", metavar="NAME")
    yes_option(p)
    p.set_defaults(handler=cmd_rm, jwt_kind=kind)


def _issuer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--issuer", metavar="ISS", help="the exact 'iss' claim of its JWTs")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--jwks-url", metavar="URL", help="where the server fetches its keys "
                                                        "(JWKS, http or https)")
    keys.add_argument("--jwks-file", metavar="FILE", help="a JWKS file read now and kept in the "
                                                          "issuer's sealed record")
    p.add_argument("--audience", action="append", metavar="AUD",
                   help="an audience its JWTs must carry in 'aud' (repeat for several)")
    p.add_argument("--algorithm", action="append", choices=ALGORITHMS, metavar="ALG",
                   help=f"an accepted algorithm (repeat; default {', '.join(DEFAULT_ALGORITHMS)};"
                        f" one of {', '.join(ALGORITHMS)})")
    p.add_argument("--jwks-cache-seconds", type=int, metavar="N",
                   help="how long fetched keys are kept (default 300)")


def _role_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--issuer", metavar="NAME", help="the name of its trusted issuer")
    p.add_argument("--bound-subject", metavar="GLOB", help="a glob the 'sub' claim must match")
    p.add_argument("--bound-claim", action="append", metavar="PATH=GLOB",
                   help="a claim (dots for nested ones: kubernetes.io.namespace) and a glob it "
                        "must match; repeat a path to allow several values")
    p.add_argument("--bound-audience", action="append", metavar="AUD",
                   help="an audience the JWT must carry (repeat for several)")
    p.add_argument("--policy", action="append", metavar="P",
                   help="a policy its tokens hold (repeat for several)")
    p.add_argument("--ttl", metavar="DURATION", help="how long its tokens live (default 15m, "
                                                     "at most 12h)")


def _admin(args: argparse.Namespace) -> JwtAdmin:
    return registry(args).jwt_auth()


def _document(args: argparse.Namespace) -> Any:
    kind = args.jwt_kind
    given = {k: v for k, v in vars(args).items() if k in _OPTIONS[kind] and v is not None}
    if args.file is not None:
        if given:
            raise InvalidArgument(f"--file and --{next(iter(given)).replace('_', '-')} were both "
                                  "given: put the whole document in the file, or use options")
        text = read_source(args.file, f"JWT {kind} {args.name}")
        return parse_json(text, f"JWT {kind} {args.name}", source=f"the {kind} document")
    if kind == "issuer":
        document: dict[str, Any] = {"issuer": args.issuer, "audiences": args.audience}
        if args.jwks_file is not None:
            text = read_source(args.jwks_file, f"JWT issuer {args.name}")
            document["jwks"] = parse_json(text, f"JWT issuer {args.name}", source="the JWKS file")
        elif args.jwks_url is not None:
            document["jwks_url"] = args.jwks_url
        if args.algorithm:
            document["algorithms"] = list(dict.fromkeys(args.algorithm))
        if args.jwks_cache_seconds is not None:
            document["jwks_cache_seconds"] = args.jwks_cache_seconds
    else:
        document = {"issuer": args.issuer, "token_policies": args.policy}
        if args.bound_subject is not None:
            document["bound_subject"] = args.bound_subject
        if args.bound_claim:
            document["bound_claims"] = _claims(args.bound_claim)
        if args.bound_audience:
            document["bound_audiences"] = args.bound_audience
        if args.ttl is not None:
            document["token_ttl"] = args.ttl
    if args.description is not None:
        document["description"] = args.description
    return {k: v for k, v in document.items() if v is not None}


_OPTIONS = {
    "issuer": ("issuer", "jwks_url", "jwks_file", "audience", "algorithm",
               "jwks_cache_seconds", "description"),
    "role": ("issuer", "bound_subject", "bound_claim", "bound_audience", "policy", "ttl",
             "description"),
}


def _claims(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        path, sep, glob = pair.partition("=")
        if not sep or not path or not glob:
            raise InvalidArgument(f"--bound-claim {pair[:80]!r}: use PATH=GLOB, e.g. "
                                  "kubernetes.io.namespace=etl or 'repository=acme/*'")
        out.setdefault(path, []).append(glob)
    return {p: g[0] if len(g) == 1 else g for p, g in out.items()}


def cmd_put(args: argparse.Namespace) -> int:
    item = parse(args.jwt_kind, args.name, _document(args))
    admin = _admin(args)
    created = admin.put_role(item) if isinstance(item, Role) else admin.put_issuer(item)
    if wants_json(args):
        print_json({"name": args.name, "created": created, "document": dict(item.document)})
    sys.stderr.write(f"{'created' if created else 'replaced'} JWT {args.jwt_kind} "
                     f"{args.name!r}\n")
    return EXIT_OK


def _all(args: argparse.Namespace) -> dict[str, Issuer] | dict[str, Role]:
    admin = _admin(args)
    return admin.issuers() if args.jwt_kind == "issuer" else admin.roles()


def cmd_get(args: argparse.Namespace) -> int:
    found = _all(args).get(args.name)
    if found is None:
        raise not_found(args.jwt_kind, args.name)
    print_json(dict(found.document))
    return EXIT_OK


def cmd_ls(args: argparse.Namespace) -> int:
    items: list[Any] = [v for _, v in sorted(_all(args).items())]
    if args.jwt_kind == "issuer":
        return emit_rows(
            args, items, lambda i: {"name": i.name, "document": dict(i.document)},
            ["NAME", "ISSUER", "KEYS", "AUDIENCES", "ALGORITHMS"],
            lambda i: [i.name, i.iss, i.jwks_url or "(kept in the record)",
                       ",".join(i.audiences), ",".join(i.algorithms)])
    return emit_rows(
        args, items, lambda r: {"name": r.name, "document": dict(r.document)},
        ["NAME", "ISSUER", "SUBJECT", "CLAIMS", "POLICIES", "TTL"],
        lambda r: [r.name, r.issuer, r.document.get("bound_subject"),
                   ",".join(r.document.get("bound_claims", {})) or None, ",".join(r.policies),
                   r.document.get("token_ttl", "15m")])


def cmd_rm(args: argparse.Namespace) -> int:
    admin = _admin(args)
    confirm(args, f"delete JWT {args.jwt_kind} {args.name}",
            "machines logging in with it are refused at once." if args.jwt_kind == "role"
            else "")
    admin.remove(args.jwt_kind, args.name)
    sys.stderr.write(f"deleted JWT {args.jwt_kind} {args.name!r}\n")
    return EXIT_OK
