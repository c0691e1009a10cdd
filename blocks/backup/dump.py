"""``blocks backup``: the whole registry to one encrypted file, read in one consistent snapshot.

Every record is checked with the registry's keys as it is read (MACs, version history, the
event chain's links and head, the censuses); a registry that does not verify is not backed up,
since a restore seals what it is given afresh. Documents are decrypted with the registry's keys
and written only inside the file's AES-256-GCM chunks (:mod:`blocks.backup.container`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO

import blocks
from blocks.backup import container, kinds
from blocks.backup.container import BackupKey
from blocks.backup.keysource import refuse_master_key
from blocks.backup.progress import Progress
from blocks.errors import IntegrityError
from blocks.store import census, chain

if TYPE_CHECKING:
    from blocks.registry import Registry

ProgressFactory = Callable[[str, int], Progress]


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore wrote: the backup's id and how many records of each kind."""

    backup_id: str
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    already: bool = False
    """Restore only: the registry already holds this backup (a rerun did nothing)."""


def _quiet(label: str, total: int) -> Progress:
    return Progress(label, total, enabled=False)


def backup(registry: Registry, out: BinaryIO, key: BackupKey, *, where: str = "the backup",
           progress: ProgressFactory = _quiet, rng: Callable[[int], bytes] = os.urandom,
           log2_n: int = container.SCRYPT_LOG2_N) -> BackupResult:
    """Write every block, version, reference, mirror, pool, queue, rotation policy and event
    of ``registry`` to ``out``, encrypted under ``key``.

    Raises:
        IntegrityError: a record does not authenticate (run ``blocks verify``); ``out`` then
            holds no final chunk, so it never restores.
        ConfigurationError: ``key`` is the registry's own master key.
    """
    registry._require_registry()
    sealer = registry.sealer  # loads the keyring, seals a freshly upgraded database
    refuse_master_key(key, registry.keyring.provider)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    header, secret = container.new_header(key, created_at=created, rng=rng, log2_n=log2_n)
    writer = registry.store.writer
    with chain.snapshot(writer) as conn:
        ctx = kinds.Context(conn, writer, sealer, rng, where)
        totals = {k.name: k.count(ctx) for k in kinds.KINDS}
        bar = progress("backing up", sum(totals.values()))
        file = container.Writer(out, header, secret)
        file.record({"k": "meta", "v": {
            "source": registry.store.dialect, "blocks": blocks.__version__,
            "created_at": created, "totals": totals}})
        for kind in kinds.KINDS:
            ctx.counts[kind.name] = 0
            for record in kind.dump(ctx):
                file.record({"k": kind.name, "v": record})
                ctx.counts[kind.name] += 1
                bar.tick()
        _check_censuses(ctx)
        file.record({"k": "end", "v": {"counts": ctx.counts}})
        file.close()
    bar.finish()
    return BackupResult(header["backup_id"], dict(ctx.counts), file.bytes_written)


def _check_censuses(ctx: kinds.Context) -> None:
    """The blocks and mirrors that went by are the ones the sealed censuses record."""
    stored = {}
    for name, count, value, term, mac in ctx.run(
            "SELECT name, members, digest, mac_term, mac FROM sealed_census").fetchall():
        ctx.sealer.check(term, mac, census.message(name, count, value), census.describe(name))
        stored[name] = (int(count), str(value))
    problems = census.differences(stored, ctx.censuses())
    if problems:
        raise IntegrityError(*problems[0])
