"""``blocks restore``: a backup into an empty registry, sealed under that registry's own keys.

The whole restore is one transaction: a file that turns out altered or truncated halfway (its
chunks are checked as they are read) rolls everything back. A registry that already holds
blocks, pools, queues, policies or events is refused, unless it was restored from this very
backup (the ``registry_state`` row ``restored-backup`` says which), when a rerun does nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from blocks.backup import container, kinds
from blocks.backup.container import BackupKey
from blocks.backup.dump import BackupResult, ProgressFactory, _quiet
from blocks.errors import BackupError, RegistryNotEmpty
from blocks.store import census, presence
from blocks.store.engine import display_url

if TYPE_CHECKING:
    from blocks.registry import Registry

MARKER = "restored-backup"


def holdings(registry: Registry) -> dict[str, int]:
    """How many rows of each backed-up kind the registry holds (only the non-empty ones)."""
    out = {}
    with registry.store.engine.connect() as conn:
        for kind in kinds.KINDS:
            if kind.emptiness:
                n = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {kind.table}").scalar_one()  # noqa: S608
                if n:
                    out[kind.name] = int(n)
    return out


def restored_from(registry: Registry) -> str | None:
    """The id of the backup this registry was restored from, if any."""
    row = registry.store._fetchone("SELECT value FROM registry_state WHERE name = ?", (MARKER,))
    if row is None:
        return None
    try:
        value = json.loads(row[0]).get("backup_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def restore(registry: Registry, src: BinaryIO, key: BackupKey, *, where: str = "the backup",
            progress: ProgressFactory = _quiet,
            rng: Callable[[int], bytes] = os.urandom) -> BackupResult:
    """Restore the backup in ``src`` into ``registry`` (created when it does not exist).

    Raises:
        BackupError: wrong passphrase or key, a file that is not a backup, altered or
            truncated (nothing is written).
        RegistryNotEmpty: the registry holds data of its own.
    """
    header, digest = container.read_header(src, where)
    secret = container.open_secret(header, key, where)  # a wrong key fails before any write
    backup_id = str(header["backup_id"])
    store = registry.store
    if not presence.exists(store):
        registry.init()
    registry._found = True
    sealer = registry.sealer
    _ = registry.keyring.current_term  # unwrap the keyring before the write transaction
    held = holdings(registry)
    if held and restored_from(registry) == backup_id:
        return BackupResult(backup_id, {}, 0, already=True)
    if held:
        raise _not_empty(registry, held)
    writer = store.writer
    ctx: kinds.Context | None = None
    bar = progress("restoring", 0)
    try:
        with writer.transaction() as conn:
            ctx = kinds.Context(conn, writer, sealer, rng, where)
            for kind in kinds.KINDS:  # again under the write lock: a concurrent restore
                if kind.emptiness and ctx.one(f"SELECT 1 FROM {kind.table}", ()):  # noqa: S608
                    raise _not_empty(registry, {kind.name: 1})
            bar = _apply(ctx, container.records(src, header, digest, secret, where), progress)
            _write_censuses(ctx)
            ctx.run("DELETE FROM registry_state WHERE name = ?", (MARKER,))
            ctx.run("INSERT INTO registry_state (name, value) VALUES (?, ?)", (MARKER, json.dumps(
                {"backup_id": backup_id, "restored_at": datetime.now(UTC).isoformat(),
                 "created_at": header.get("created_at")}, sort_keys=True)))
    except BackupError:
        raise
    except Exception as exc:
        if not writer.is_constraint(exc):
            raise
        raise BackupError(f"{where}: its records do not fit this registry ({type(exc).__name__}"
                          "); nothing was restored. Restore into a new, empty registry") from None
    store.checkpoint()
    bar.finish()
    return BackupResult(backup_id, dict(ctx.counts), 0)


def _apply(ctx: kinds.Context, records: Any, progress: ProgressFactory) -> Any:
    """Insert every record in file order; returns the progress bar."""
    order = {k.name: i for i, k in enumerate(kinds.KINDS)}
    bar, at, ended = progress("restoring", 0), -1, None
    for n, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("k"), str):
            raise BackupError(f"{ctx.where}: a record is malformed; the file was made by "
                              "another program")
        tag, value = record["k"], record.get("v")
        if n == 0:
            if tag != "meta" or not isinstance(value, dict):
                raise BackupError(f"{ctx.where}: it does not start with its description")
            totals = value.get("totals")
            total = sum(v for v in totals.values() if type(v) is int) if isinstance(
                totals, dict) else 0
            bar = progress("restoring", total)
            continue
        if ended is not None:
            raise BackupError(f"{ctx.where}: records follow its end record; the file was altered")
        if tag == "end":
            ended = value
            continue
        kind = kinds.BY_NAME.get(tag)
        if kind is None:
            raise BackupError(f"{ctx.where} holds records of kind {tag[:40]!r}, which this "
                              "version of Blocks does not know; restore it with the version "
                              "that made it or a newer one")
        if order[tag] < at:
            raise BackupError(f"{ctx.where}: its {tag} records are out of order")
        at = order[tag]
        kind.restore(ctx, value)
        ctx.counts[tag] = ctx.counts.get(tag, 0) + 1
        bar.tick()
    if not isinstance(ended, dict) or not isinstance(ended.get("counts"), dict):
        raise BackupError(f"{ctx.where} has no end record; the file is incomplete")
    expected = {k: v for k, v in ended["counts"].items() if v}
    if expected != ctx.counts:
        raise BackupError(f"{ctx.where}: it holds other records than its end record counts; "
                          "the file was altered")
    return bar


def _write_censuses(ctx: kinds.Context) -> None:
    """Seal the censuses of the restored blocks and mirrors."""
    for name, (count, value) in ctx.censuses().items():
        term, mac = ctx.sealer.sign(census.message(name, count, value))
        ctx.run("DELETE FROM sealed_census WHERE name = ?", (name,))
        ctx.run("INSERT INTO sealed_census (name, members, digest, mac_term, mac) "
                "VALUES (?, ?, ?, ?, ?)", (name, count, value, term, mac))


def _not_empty(registry: Registry, held: dict[str, int]) -> RegistryNotEmpty:
    what = ", ".join(f"{n} {k} record(s)" for k, n in held.items())
    return RegistryNotEmpty(
        f"the registry at {display_url(registry.store.url)} is not empty (it holds {what}); "
        "restore needs an empty registry: point BLOCKS_HOME or BLOCKS_DATABASE_URL at a new "
        "one (blocks restore creates it), or restore the same backup again (a no-op)")
