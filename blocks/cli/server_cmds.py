"""``blocks server run | init``: the registry as a network service.

``run`` (here) serves the HTTP API with uvicorn (``blocks/server/runner.py``); it is the only
process that needs the database URL and the key provider. ``init`` (the first admin token) is
registered into the same group by ``blocks/cli/access_cmds.py`` through :func:`server_group`.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from blocks.cli.output import EXIT_OK
from blocks.errors import MissingExtraError

RUN_EXAMPLES = """examples:
  blocks server run                                   # http://127.0.0.1:8765, loopback only
  blocks server run --host 0.0.0.0 --tls-cert server.pem --tls-key server-key.pem
  blocks server run --host 0.0.0.0 --insecure         # behind a TLS-terminating proxy
  blocks server run --workers 2 --port 8765           # two worker processes, one port"""


def server_group(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The sub-commands of ``blocks server`` (created on first call; every ``*_cmds`` module
    that adds a ``server`` sub-command calls this, whichever registers first)."""
    group = subparsers.choices.get("server")
    if group is None:
        group = subparsers.add_parser(
            "server", help="the registry as a network service: init, run",
            description="Serve the registry over HTTP: clients then need only BLOCKS_API_URL "
            "and a token (BLOCKS_API_TOKEN), never the database URL or the master key.",
            epilog="examples:\n  blocks server init\n  blocks server run",
        )
    for action in group._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    sub = group.add_subparsers(dest="server_command", metavar="SERVER_COMMAND")
    sub.required = True
    return sub


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks server run`` (``blocks server init`` comes from ``access_cmds``)."""
    from blocks.server.defaults import DEFAULT_HOST, DEFAULT_PORT, GRACE_SECONDS

    p = server_group(subparsers).add_parser(
        "run", help="serve the API (database URL and key provider from BLOCKS_*)",
        description="Serve the registry's HTTP API until SIGTERM or Ctrl-C (requests in "
        "flight finish first). Settings come from BLOCKS_* like any registry. Access log: one "
        "JSON line per request on standard output; server messages on standard error.",
        epilog=RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to bind (default {DEFAULT_HOST}; plain HTTP only on loopback "
                        "unless --insecure)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port (default {DEFAULT_PORT}; 0: any free port, announced on "
                        "standard error)")
    p.add_argument("--tls-cert", type=Path, metavar="FILE",
                   help="PEM certificate chain: serve HTTPS (with --tls-key)")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key of --tls-cert")
    p.add_argument("--insecure", action="store_true",
                   help="allow plain HTTP on a non-loopback host (a TLS proxy is in front)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes sharing the port (default 1)")
    p.add_argument("--reuse-port", action="store_true",
                   help="with --workers: a listening socket per worker (SO_REUSEPORT, Linux), "
                        "the kernel spreading connections by address hash; default: one "
                        "shared socket")
    p.add_argument("--grace", type=float, default=GRACE_SECONDS, metavar="SECONDS",
                   help=f"how long SIGTERM waits for requests in flight (default "
                        f"{GRACE_SECONDS:g})")
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    for package in ("fastapi", "uvicorn"):
        if importlib.util.find_spec(package) is None:
            raise MissingExtraError(package, "server", "blocks server run")
    from blocks.server.runner import ServeOptions, serve

    serve(ServeOptions(
        host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key,
        insecure=args.insecure, workers=args.workers, grace_seconds=args.grace,
        reuse_port=args.reuse_port,
    ))
    return EXIT_OK
