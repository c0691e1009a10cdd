"""``blocks backup FILE`` and ``blocks restore FILE``: a whole registry to one encrypted file
and back (any backend to any backend); see docs/backup.md."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from blocks.backup.container import BackupKey
from blocks.backup.dump import BackupResult, backup
from blocks.backup.keysource import provider_key, read_passphrase
from blocks.backup.progress import Progress
from blocks.backup.restore import restore
from blocks.cli.output import (
    EXIT_OK,
    info,
    json_flag,
    key_provider_option,
    print_json,
    provider_spec,
    registry,
    wants_json,
)
from blocks.errors import BackupError, ConfigurationError
from blocks.keys.factory import SPEC_HELP
from blocks.private_files import private_file
from blocks.registry import local
from blocks.settings import Settings
from blocks.store import presence

_KEY_HELP = (
    "a key of a key provider that wraps the backup's key instead of a passphrase (never the "
    f"registry's own master key): {SPEC_HELP}"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks backup`` and ``blocks restore``."""
    p = subparsers.add_parser(
        "backup", help="write the whole registry to one encrypted file",
        description="Write every block with every version, stages, references, mirrors, work "
                    "pools and queues with their history, rotation policies and the event chain "
                    "to FILE, encrypted (AES-256-GCM) under a passphrase or a key of your own.",
        epilog="examples:\n"
               "  blocks backup blocks-$(date +%F).bkp --passphrase-file ~/.blocks-backup-pass\n"
               "  blocks backup - --backup-key aws-kms:alias/blocks-backup | aws s3 cp - "
               "s3://backups/blocks.bkp",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="where to write the backup ('-': stdout)")
    _key_options(p)
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=cmd_backup, read_only=True, command_name="backup")

    r = subparsers.add_parser(
        "restore", help="restore a backup into an empty registry (created if missing)",
        description="Restore FILE into the registry BLOCKS_HOME or BLOCKS_DATABASE_URL names, "
                    "which must be empty (it is created if it does not exist), sealed under "
                    "that registry's own master key. Nothing is written if the file is altered "
                    "or truncated; restoring the same file again does nothing.",
        epilog="examples:\n"
               "  blocks restore blocks-2026-01-31.bkp --passphrase-file ~/.blocks-backup-pass\n"
               "  BLOCKS_DATABASE_URL=postgresql+psycopg://blocks@db/blocks blocks restore "
               "blocks.bkp --passphrase-file pass.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("file", metavar="FILE", help="the backup to restore ('-': stdin)")
    _key_options(r)
    r.set_defaults(handler=cmd_restore, command_name="restore")


def _key_options(p: argparse.ArgumentParser) -> None:
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--passphrase-file", metavar="PATH",
                      help="file holding the backup's passphrase (at least 12 characters)")
    keys.add_argument("--backup-key", type=provider_spec, metavar="PROVIDER:KEY",
                      help=_KEY_HELP)
    p.add_argument("--progress", action="store_true", default=None,
                   help="draw a progress bar on stderr even when it is not a terminal")
    key_provider_option(p)
    json_flag(p)


def _key(args: argparse.Namespace, *, new: bool) -> BackupKey:
    if args.passphrase_file is None and args.backup_key is None:
        raise ConfigurationError(
            f"blocks {args.command_name}: give --passphrase-file PATH or --backup-key "
            "PROVIDER:KEY (the key the backup is encrypted under)")
    if args.passphrase_file is not None:
        return read_passphrase(args.passphrase_file, new=new)
    spec = args.key_provider.apply(Settings()) if args.key_provider is not None else Settings()
    return provider_key(args.backup_key, spec, new=new)


def _bars(args: argparse.Namespace) -> object:
    return lambda label, total: Progress(label, total, enabled=args.progress)


def cmd_backup(args: argparse.Namespace) -> int:
    reg = local(registry(args), "blocks backup")  # it reads the database itself
    key = _key(args, new=True)
    with _output(args.file, args.overwrite) as (out, where):
        result = backup(reg, out, key, where=where, progress=_bars(args))  # type: ignore[arg-type]
    _report(args, "backed up", result, where)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    reg = local(registry(args), "blocks restore")  # it writes the database itself
    key = _key(args, new=False)
    fresh = not presence.exists(reg.store)
    with _input(args.file) as (src, where):
        result = restore(reg, src, key, where=where, progress=_bars(args))  # type: ignore[arg-type]
    if fresh:
        provider = reg.keyring.provider
        info(f"created a new registry at {presence.where(reg.store, reg.settings.home)} "
             f"(master key: {provider.name} {provider.key_id})")
    if result.already:
        if wants_json(args):
            print_json({"backup_id": result.backup_id, "already_restored": True})
        info(f"{where}: this registry was already restored from it; nothing to do")
        return EXIT_OK
    _report(args, "restored", result, where)
    return EXIT_OK


def _report(args: argparse.Namespace, done: str, result: BackupResult, where: str) -> None:
    if wants_json(args):
        print_json({"backup_id": result.backup_id, "counts": result.counts,
                    **({"bytes": result.bytes} if result.bytes else {})})
        return
    c = result.counts
    size = f" ({result.bytes:,} bytes)" if result.bytes else ""
    info(f"{done} {c.get('block', 0)} blocks ({c.get('version', 0)} versions), "
         f"{c.get('pool', 0)} pools ({c.get('pool-version', 0)} versions), "
         f"{c.get('queue', 0)} queues, {c.get('rotation-policy', 0)} rotation policies, "
         f"{c.get('event', 0)} events, {c.get('mirror', 0)} mirrors{_server_part(c)} "
         f"{'to' if done == 'backed up' else 'from'} {where}{size}")


def _server_part(c: dict[str, int]) -> str:
    """The deletion schedule, access policies and API tokens, when there are any."""
    parts = [(c.get("deletion", 0), "deleted block(s) in their recovery window"),
             (c.get("access-policy", 0), "access policies"), (c.get("api-token", 0), "API tokens")]
    return "".join(f", {n} {what}" for n, what in parts) if any(n for n, _ in parts) else ""


@contextlib.contextmanager
def _output(file: str, overwrite: bool) -> Iterator[tuple[BinaryIO, str]]:
    """Stdout, or a private temporary file beside FILE renamed over it once complete."""
    if file == "-":
        yield sys.stdout.buffer, "the backup on stdout"
        sys.stdout.buffer.flush()
        return
    path = Path(file).expanduser()
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists; pass --overwrite to replace it, or name a new file")
    if not path.parent.is_dir():
        raise BackupError(f"{path}: the directory {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    private_file(partial)
    try:
        with open(partial, "r+b") as out:
            yield out, str(path)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


@contextlib.contextmanager
def _input(file: str) -> Iterator[tuple[BinaryIO, str]]:
    if file == "-":
        yield sys.stdin.buffer, "the backup on stdin"
        return
    path = Path(file).expanduser()
    try:
        src = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    with src:
        yield src, str(path)
