"""What a backup holds: one record kind per table, read in key order and written back re-sealed.

A backup reads every row of each kind (in pages along its primary key, so memory does not grow
with the registry), checks its MAC with the source registry's keys first (a backup never
carries a record that does not authenticate into a registry that would seal it afresh), and
writes it as a record ``{"k": kind, "v": {column: value}}``. A restore inserts each record with
the same ids, versions and timestamps and seals it under the target registry's own keys.

Adding a table to backups is one :class:`TableKind` in
:data:`KINDS`, after the kinds its foreign keys point to::

    TableKind("token", "api_token", key=("id",), columns=("id", "name", ...),
              times=frozenset({"created_at"}), message=lambda r, _: token_message(...),
              describe=lambda r: f"token {r['name']!r}")

Block versions (:class:`VersionKind`: decrypted from the source, re-encrypted under fresh data
keys of the target) and the event chain (:class:`EventKind`, :class:`ChainHeadKind`: links
checked on both sides) are the special cases. Censuses are not copied: both sides recount them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from blocks.backup.table import Context, Message, Row, TableKind
from blocks.crypto import envelope
from blocks.errors import BackupError, DecryptionError, IntegrityError
from blocks.store import access_seals, census, chain, recovery, rotation_seals
from blocks.store.records import Head
from blocks.store.sealing import (
    head_message,
    mirror_message,
    pool_head_message,
    pool_version_message,
    queue_message,
)
from blocks.store.writer import ref_message

__all__ = ["BY_NAME", "KINDS", "Context", "TableKind"]

VERSION_PAGE = 50  # rows with documents: a smaller page


class VersionKind(TableKind):
    """Block versions: opened with the source's keys, re-encrypted under the target's."""

    def dump(self, ctx: Context) -> Iterator[Row]:
        cols = ("v.block_id, v.version, v.term, v.wrapped_key, v.ciphertext, v.schema_checksum,"
                " v.schema_version, v.note, v.created_at, b.type_slug, b.name, b.latest_version")
        last: tuple[Any, ...] = ("", 0)
        block: tuple[str, str, int, Any] | None = None  # id, ref, versions seen, latest
        blocks = 0
        while True:
            rows = ctx.run(f"SELECT {cols} FROM block_version v JOIN block b ON "  # noqa: S608
                           "b.id = v.block_id WHERE (v.block_id, v.version) > (?, ?) "
                           f"ORDER BY v.block_id, v.version LIMIT {VERSION_PAGE}", last).fetchall()
            for (bid, version, term, wrapped, blob, checksum, schema_version, note, created,
                 slug, name, latest) in rows:
                ref = f"{slug}/{name}"
                if block is None or block[0] != bid:
                    _complete(block)
                    block, blocks = (bid, ref, 0, latest), blocks + 1
                if version != block[2] + 1 or not isinstance(latest, int) or version > latest:
                    raise IntegrityError(ref, "versions are missing from its history or beyond "
                                              "its sealed head")
                block = (bid, ref, version, latest)
                document = None
                if wrapped is not None and blob is not None and term is not None:
                    aad = envelope.binding(bid, slug, version)
                    try:
                        key = ctx.sealer.keyring.unwrap_data_key(term, bytes(wrapped), aad)
                        document = envelope.unseal(key, bytes(blob), aad)
                    except DecryptionError:
                        raise IntegrityError(f"{ref} version {version}",
                                             "it does not decrypt") from None
                yield {"block_id": bid, "version": version,
                       "document": None if document is None else document.decode("utf-8"),
                       "schema_checksum": checksum, "schema_version": schema_version,
                       "note": note, "created_at": chain.at_text(created)}
            if len(rows) < VERSION_PAGE:
                break
            last = (rows[-1][0], rows[-1][1])
        _complete(block)
        if blocks != ctx.counts.get("block", 0):
            raise IntegrityError("the block versions", "a block has no versions")

    def restore(self, ctx: Context, record: Any) -> None:
        row = self.from_file(ctx, record)
        bid, version = row["block_id"], row["version"]
        slug = ctx.memo.get("slug", (None, None))
        if slug[0] != bid:
            found = ctx.one("SELECT type_slug FROM block WHERE id = ?", (bid,))
            if found is None:
                raise BackupError(f"{ctx.where}: a version names a block that is not in the "
                                  "file; the file was made by another version of Blocks")
            slug = ctx.memo["slug"] = (bid, found[0])
        term = wrapped = blob = None
        if row["document"] is not None:
            aad = envelope.binding(bid, slug[1], version)
            data_key, blob = envelope.seal(row["document"].encode("utf-8"), aad, rng=ctx.rng)
            term, wrapped = ctx.sealer.keyring.wrap_data_key(data_key, aad)
        ctx.run("INSERT INTO block_version (block_id, version, term, wrapped_key, ciphertext, "
                "schema_checksum, schema_version, note, created_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (bid, version, term, wrapped, blob, row["schema_checksum"],
                 row["schema_version"], row["note"],
                 ctx.writer.stamp(datetime.fromisoformat(row["created_at"]))))

    def count(self, ctx: Context) -> int:
        return int(ctx.one("SELECT COUNT(*) FROM block_version", ())[0])


def _complete(block: tuple[str, str, int, Any] | None) -> None:
    if block is not None and block[2] != block[3]:
        raise IntegrityError(block[1], "versions are missing from its history")


class EventKind(TableKind):
    """The event chain's events: MACs and links checked on backup, re-linked and re-sealed on
    restore (their content and so their digests stay the same)."""

    def check(self, ctx: Context, row: Row) -> None:
        own = chain.row_digest(tuple(row[c] for c in self.columns))
        if own is None or not ctx.sealer.valid(row["mac_term"], row["mac"],
                                               chain.event_mac_message(own)):
            raise IntegrityError(f"{chain.WHAT} (event {row['seq']})")
        pruned = self._pruned(ctx)  # ``blocks audit prune``: the links start at its checkpoint
        if pruned is not None and row["seq"] <= pruned[0]:
            return  # kept by the prune (a rotation step): sealed on its own, and by the count
        if pruned is not None and ctx.chain_at[0] < pruned[0]:
            ctx.chain_at = pruned
        seq, digest = ctx.chain_at
        if row["seq"] != seq + 1 or row["prev"] != digest:
            raise IntegrityError(chain.WHAT, f"event {row['seq']} does not follow the one "
                                             "before it")
        ctx.chain_at = (row["seq"], own)

    @staticmethod
    def _pruned(ctx: Context) -> tuple[int, str] | None:
        if "pruned" not in ctx.memo:
            found = ctx.one("SELECT seq, digest FROM event_chain WHERE name = ?",
                            (chain.CHECKPOINT,))
            ctx.memo["pruned"] = (int(found[0]), str(found[1])) if found else None
        pruned: tuple[int, str] | None = ctx.memo["pruned"]
        return pruned

    def restore(self, ctx: Context, record: Any) -> None:
        row = self.from_file(ctx, record)
        seq, digest = ctx.chain_at
        if seq == 0 and row["seq"] != 1:
            ctx.memo["restoring-pruned"] = True  # its checkpoint row follows the events
        if ctx.memo.get("restoring-pruned"):
            if row["seq"] <= seq:  # a pruned log keeps its order (the file is authenticated)
                raise BackupError(f"{ctx.where}: event {row['seq']} is out of order; the file "
                                  "was altered")
        elif row["seq"] != seq + 1 or row["prev"] != digest:
            raise BackupError(f"{ctx.where}: event {row['seq']} does not follow the event "
                              "before it in the file; the file was altered")
        own = chain.digest_of(row["seq"], row["prev"], row["kind"], row["subject"],
                              chain.at_text(row["at"]), row["actor"], row["body"])
        values = [self.stored(ctx, c, row[c]) for c in self.columns]
        ctx.run("INSERT INTO event_log (seq, prev, kind, subject, at, actor, body, mac_term, "
                "mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, *ctx.sealer.sign(chain.event_mac_message(own))))
        ctx.chain_at = (row["seq"], own)


class ChainHeadKind(TableKind):
    """The chain's sealed head: must name the last event that went by."""

    def check(self, ctx: Context, row: Row) -> None:
        super().check(ctx, row)
        if row["name"] == chain.NAME and (row["seq"], row["digest"]) != ctx.chain_at:
            raise IntegrityError(chain.WHAT, f"its sealed head names event {row['seq']} but the "
                                             f"log ends at event {ctx.chain_at[0]}")

    def restore(self, ctx: Context, record: Any) -> None:
        row = self.from_file(ctx, record)
        if row["name"] == chain.NAME and (row["seq"], row["digest"]) != ctx.chain_at:
            raise BackupError(f"{ctx.where}: the event chain's head does not name its last "
                              "event; the file was altered")
        term, mac = ctx.sealer.sign(chain.head_mac_message(row["name"], row["seq"],
                                                           row["digest"]))
        moved = ctx.run("UPDATE event_chain SET seq = ?, digest = ?, mac_term = ?, mac = ? "
                        "WHERE name = ?", (row["seq"], row["digest"], term, mac, row["name"]))
        if moved.rowcount == 0:
            ctx.run("INSERT INTO event_chain (name, seq, digest, mac_term, mac) VALUES "
                    "(?, ?, ?, ?, ?)", (row["name"], row["seq"], row["digest"], term, mac))


def _head(r: Row, _: Context) -> Message:
    return lambda t: head_message(Head(r["id"], r["type_slug"], r["name"],
                                       r["current_version"], r["latest_version"], r["stages"],
                                       None, None), t)


def _pool_version(r: Row, ctx: Context) -> Message:
    found = ctx.one("SELECT name, type FROM work_pool WHERE id = ?", (r["pool_id"],))
    if found is None:
        return lambda t: b""  # never a valid MAC: reported as not authenticating
    return pool_version_message(r["pool_id"], found[0], found[1], r["version"], r["document"])


def _token(r: Row) -> Message:
    """What an API token row's MAC covers (only its hash is stored, and backed up)."""
    return access_seals.token_message(tuple(r[c] for c in access_seals.TOKEN_COLUMNS))


_DELETION = ("block_id", "type_slug", "name", "deleted_at", "shred_after")
"""A scheduled deletion (the recovery window): the block's head, versions and references
are backed up as any block's (its head under its tombstone name)."""

_POLICY = ("block_id", "policy", "next_due_at", "last_rotated_at", "state", "last_error",
           "run", "revoke_version", "revoke_due_at", "revoke_state", "event_seq",
           "lease_owner", "lease_until")


KINDS: tuple[TableKind, ...] = (
    TableKind(
        "block", "block", ("id",),
        ("id", "type_slug", "name", "current_version", "latest_version", "stages",
         "created_at", "updated_at"),
        times=frozenset({"created_at", "updated_at"}), mac=("head_term", "head_mac"),
        message=_head, describe=lambda r: f"{r['type_slug']}/{r['name']} (head)",
        member=lambda r: (census.blocks_of(r["type_slug"]),
                          census.block_member(r["id"], r["type_slug"], r["name"])),
    ),
    VersionKind("version", "block_version", ("block_id", "version"),
                ("block_id", "version", "document", "schema_checksum", "schema_version", "note",
                 "created_at"), mac=None),
    TableKind(
        "reference", "block_ref", ("block_id", "path"), ("block_id", "path", "ref_block_id"),
        message=lambda r, _: ref_message(r["block_id"], r["path"], r["ref_block_id"]),
        describe=lambda r: f"the reference of the block with id {r['block_id']} "
                           f"(field {r['path']})",
    ),
    TableKind(
        "deletion", "block_deletion", ("block_id",), _DELETION,
        times=frozenset({"deleted_at", "shred_after"}),
        message=lambda r, _: recovery.deletion_message(tuple(r[c] for c in _DELETION)),
        describe=lambda r: recovery.describe(tuple(r[c] for c in _DELETION)),
        member=lambda r: (recovery.DELETED, recovery.member(r["block_id"], r["type_slug"],
                                                            r["name"])),
    ),
    TableKind(
        "mirror", "block_mirror", ("block_id", "target"),
        ("block_id", "target", "target_name", "target_ref", "pushed_version", "pushed_at",
         "last_error"), times=frozenset({"pushed_at"}),
        message=lambda r, _: mirror_message(r["block_id"], r["target"], r["target_name"]),
        describe=lambda r: f"the mirror of the block with id {r['block_id']} to {r['target']}",
        member=lambda r: (census.MIRRORS, census.mirror_member(
            r["block_id"], r["target"], r["target_name"])),
    ),
    TableKind(
        "pool", "work_pool", ("id",),
        ("id", "name", "type", "current_version", "created_at", "updated_at"),
        times=frozenset({"created_at", "updated_at"}), mac=("head_term", "head_mac"),
        message=lambda r, _: pool_head_message(r["id"], r["name"], r["type"],
                                               r["current_version"]),
        describe=lambda r: f"work pool {r['name']!r} (head)",
    ),
    TableKind(
        "pool-version", "work_pool_version", ("pool_id", "version"),
        ("pool_id", "version", "document", "note", "created_at"),
        times=frozenset({"created_at"}), message=_pool_version,
        describe=lambda r: f"version {r['version']} of the work pool with id {r['pool_id']}",
    ),
    TableKind(
        "queue", "work_queue", ("id",),
        ("id", "pool_id", "name", "description", "priority", "concurrency_limit", "is_paused",
         "version", "created_at", "updated_at"),
        times=frozenset({"created_at", "updated_at"}), booleans=frozenset({"is_paused"}),
        message=lambda r, _: queue_message(r["id"], r["pool_id"], r["name"], r["version"],
                                           r["description"], r["priority"],
                                           r["concurrency_limit"], r["is_paused"]),
        describe=lambda r: f"queue {r['name']!r} of the work pool with id {r['pool_id']}",
    ),
    TableKind(
        "rotation-policy", "rotation_policy", ("block_id",), _POLICY,
        times=frozenset({"next_due_at", "last_rotated_at", "revoke_due_at", "lease_until"}),
        message=lambda r, _: rotation_seals.policy_message(
            r["block_id"], tuple(r[c] for c in rotation_seals.SEALED)),
        describe=lambda r: f"the rotation policy of the block with id {r['block_id']}",
    ),
    EventKind("event", "event_log", ("seq",),
              ("seq", "prev", "kind", "subject", "at", "actor", "body"),
              times=frozenset({"at"})),
    ChainHeadKind(
        "event-chain", "event_chain", ("name",), ("name", "seq", "digest"),
        message=lambda r, _: chain.head_mac_message(r["name"], r["seq"], r["digest"]),
        describe=lambda r: "the event log's head", emptiness=False,
    ),
    TableKind(
        "access-policy", "access_policy", ("name",), ("name", "document", "updated_at"),
        times=frozenset({"updated_at"}),
        message=lambda r, _: access_seals.policy_message(r["name"], r["document"]),
        describe=lambda r: access_seals.describe_policy(r["name"]),
        member=lambda r: (access_seals.POLICIES, access_seals.member(
            access_seals.policy_message(r["name"], r["document"]))),
    ),
    TableKind(
        "api-token", "api_token", ("id",), (*access_seals.TOKEN_COLUMNS, "last_used_at"),
        times=frozenset({"created_at", "expires_at", "revoked_at", "last_used_at"}),
        message=lambda r, _: _token(r),
        describe=lambda r: access_seals.describe_token(r["name"]),
        member=lambda r: (access_seals.TOKENS, access_seals.member(_token(r))),
    ),
)
"""Every kind, in the order a backup writes them (foreign keys point backwards)."""

BY_NAME: Mapping[str, TableKind] = {k.name: k for k in KINDS}
