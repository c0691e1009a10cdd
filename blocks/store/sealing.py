"""Sealing and checking the authenticated records: block heads, pool heads and documents, queues.

A :class:`KeyringSealer` MACs each record's bound fields (:mod:`blocks.crypto.integrity`) under
a key derived from a keyring term, and checks them on every read. Rows written before revision
``0003_integrity`` carry no MAC: :func:`seal_unsealed` seals them once, in one transaction, the
first time a Registry opens the upgraded database with its master key; afterwards a row without
a valid MAC is an :class:`~blocks.errors.IntegrityError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from blocks.crypto import integrity
from blocks.crypto.integrity import canonical_json
from blocks.errors import IntegrityError
from blocks.store import access_seals, census, chain, jwt_seals, recovery, rotation_seals
from blocks.store.records import Head, stages_json
from blocks.store.writer import ref_message

if TYPE_CHECKING:
    from blocks.crypto.keyring import Keyring
    from blocks.store.sql import SqlStore

Message = Callable[[int], bytes]


def head_message(head: Head, term: int) -> bytes:
    """What a block head's MAC covers."""
    return integrity.head_message(
        head.block_id, head.type_slug, head.name, head.current_version,
        head.latest_version if head.latest_version is not None else -1,
        head.stages if head.stages is not None else "", term,
    )


def queue_settings(description: Any, priority: Any, limit: Any, paused: Any) -> str:
    """A queue's settings as the canonical JSON its MAC covers."""
    return canonical_json({
        "description": description, "priority": priority, "concurrency_limit": limit,
        "is_paused": bool(paused),
    }).decode()


class KeyringSealer:
    """MACs under the keyring's current term; checks under the term a record names.

    Args:
        keyring: the registry's keyring.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def sign(self, message: Message) -> tuple[int, bytes]:
        """``(term, mac)`` of ``message(term)`` under the current term."""
        return self.keyring.sign(message)

    def valid(self, term: Any, mac: Any, message: Message) -> bool:
        """True if ``mac`` authenticates ``message(term)`` under ``term``."""
        if type(term) is not int:
            return False
        if type(mac) is not bytes:
            if not isinstance(mac, memoryview):  # psycopg returns bytes; SQLite bytes
                return False
            mac = bytes(mac)
        return self.keyring.verify(term, message(term), mac)

    def check(self, term: Any, mac: Any, message: Message, what: str) -> None:
        """Raise :class:`IntegrityError` naming ``what`` unless the record authenticates."""
        if not self.valid(term, mac, message):
            raise IntegrityError(what)

    # -- block heads (the writer's HeadSealer protocol) -----------------------------------

    def seal_head(self, head: Head) -> Head:
        """``head`` sealed under the current term."""
        term, mac = self.sign(lambda t: head_message(head, t))
        return Head(head.block_id, head.type_slug, head.name, head.current_version,
                    head.latest_version, head.stages, term, mac)

    def check_head(self, head: Head, what: str) -> None:
        """Raise :class:`IntegrityError` unless the head authenticates and is consistent."""
        self.check(head.term, head.mac, lambda t: head_message(head, t), what)
        latest = head.latest_version
        if not (isinstance(latest, int) and 1 <= head.current_version <= latest):
            raise IntegrityError(what, "the head's versions are inconsistent")

    def stale(self) -> None:
        """Re-read the keyring (a term this process cached may have been retired)."""
        self.keyring.refresh()


# -- pools and queues ------------------------------------------------------------------------


def pool_head_message(pool_id: str, name: str, pool_type: str, current: int) -> Message:
    """What a pool head's MAC covers."""
    return lambda t: integrity.pool_head_message(pool_id, name, pool_type, current, t)


def pool_version_message(
    pool_id: str, name: str, pool_type: str, version: int, document: str
) -> Message:
    """What a pool version's MAC covers."""
    return lambda t: integrity.pool_version_message(pool_id, name, pool_type, version, document, t)


def queue_message(
    queue_id: str, pool_id: str, name: str, version: int, description: Any, priority: Any,
    limit: Any, paused: Any,
) -> Message:
    """What a queue's MAC covers."""
    settings = queue_settings(description, priority, limit, paused)
    return lambda t: integrity.queue_message(queue_id, pool_id, name, version, settings, t)


def mirror_message(block_id: str, target: str, target_name: str) -> Message:
    """What a mirror row's MAC covers."""
    return lambda t: integrity.mirror_message(block_id, target, target_name, t)


def _seal_unsealed_pools(conn: Any, sealer: KeyringSealer) -> int:
    from sqlalchemy import text

    count = 0
    for pid, name, ptype, cur in conn.exec_driver_sql(
        "SELECT id, name, type, current_version FROM work_pool WHERE head_mac IS NULL"
    ).all():
        term, mac = sealer.sign(pool_head_message(pid, name, ptype, cur))
        conn.execute(text("UPDATE work_pool SET head_term = :t, head_mac = :m WHERE id = :i"),
                     {"t": term, "m": mac, "i": pid})
        count += 1
    for pid, version, name, ptype, document in conn.exec_driver_sql(
        "SELECT v.pool_id, v.version, p.name, p.type, v.document FROM work_pool_version v "
        "JOIN work_pool p ON p.id = v.pool_id WHERE v.mac IS NULL"
    ).all():
        term, mac = sealer.sign(pool_version_message(pid, name, ptype, version, document))
        conn.execute(text(
            "UPDATE work_pool_version SET mac_term = :t, mac = :m WHERE pool_id = :i AND "
            "version = :v"
        ), {"t": term, "m": mac, "i": pid, "v": version})
        count += 1
    for qid, pid, name, version, desc, prio, limit, paused in conn.exec_driver_sql(
        "SELECT id, pool_id, name, version, description, priority, concurrency_limit, "
        "is_paused FROM work_queue WHERE mac IS NULL"
    ).all():
        term, mac = sealer.sign(queue_message(qid, pid, name, version, desc, prio, limit, paused))
        conn.execute(text("UPDATE work_queue SET mac_term = :t, mac = :m WHERE id = :i"),
                     {"t": term, "m": mac, "i": qid})
        count += 1
    return count


# -- one-time sealing of rows written before 0003 ------------------------------------------


def seal_unsealed(store: SqlStore, sealer: KeyringSealer) -> int:
    """Seal every row of a database upgraded to ``0003_integrity``; returns how many.

    Runs only while the ``registry_state`` row ``unsealed`` exists and deletes it in the same
    transaction, so it runs once per database. Rows that are already sealed are left alone.
    """
    from sqlalchemy import text

    with store.engine.begin() as conn:
        query = "SELECT value FROM registry_state WHERE name = 'unsealed'"
        if store.dialect == "postgresql":
            query += " FOR UPDATE"
        if conn.exec_driver_sql(query).first() is None:
            return 0
        count = 0
        for bid, slug, name, cur, latest in conn.exec_driver_sql(
            "SELECT id, type_slug, name, current_version, latest_version FROM block "
            "WHERE head_mac IS NULL"
        ).all():
            head = sealer.seal_head(Head(
                bid, slug, name, cur, latest or cur, stages_json({"current": cur}), None, None
            ))
            conn.execute(text(
                "UPDATE block SET latest_version = :l, stages = :s, head_term = :t, "
                "head_mac = :m WHERE id = :i"
            ), {"l": head.latest_version, "s": head.stages, "t": head.term, "m": head.mac,
                "i": bid})
            count += 1
        count += _seal_unsealed_pools(conn, sealer)
        conn.exec_driver_sql("DELETE FROM registry_state WHERE name = 'unsealed'")
    return count


REFS_MARKER = "unsealed-refs"


def seal_refs_and_mirrors(store: SqlStore, sealer: KeyringSealer) -> tuple[int, int]:
    """Seal the reference and mirror rows of a database upgraded to ``0012_seal_refs_mirrors``
    and write its censuses, once per database (the ``registry_state`` row ``unsealed-refs``
    goes in the same transaction).

    Returns:
        How many reference and mirror rows were sealed, and how many blocks were counted.
    """
    sealer.keyring.current_term  # noqa: B018 - a new database's first term: before the lock
    with store.engine.begin() as conn:
        run = store.executor(conn)
        marker = "SELECT value FROM registry_state WHERE name = ?"
        if store.dialect == "postgresql":
            marker += " FOR UPDATE"
        if run(marker, (REFS_MARKER,)).fetchone() is None:
            return 0, 0
        count = 0
        for bid, path, target in run(
            "SELECT block_id, path, ref_block_id FROM block_ref WHERE mac IS NULL", ()
        ).fetchall():
            term, mac = sealer.sign(ref_message(bid, path, target))
            run("UPDATE block_ref SET mac_term = ?, mac = ? WHERE block_id = ? AND path = ?",
                (term, mac, bid, path))
            count += 1
        for bid, target, name in run(
            "SELECT block_id, target, target_name FROM block_mirror WHERE mac IS NULL", ()
        ).fetchall():
            term, mac = sealer.sign(mirror_message(bid, target, name))
            run("UPDATE block_mirror SET mac_term = ?, mac = ? WHERE block_id = ? AND "
                "target = ?", (term, mac, bid, target))
            count += 1
        blocks = run("SELECT id, type_slug, name FROM block", ()).fetchall()
        mirrors = run("SELECT block_id, target, target_name FROM block_mirror", ()).fetchall()
        members: dict[str, list[int]] = {census.MIRRORS: [
            census.mirror_member(*row) for row in mirrors]}
        for bid, slug, name in blocks:
            members.setdefault(census.blocks_of(slug), []).append(
                census.block_member(bid, slug, name))
        for name, values in members.items():
            census.write(run, sealer, name, values)
        run("DELETE FROM registry_state WHERE name = ?", (REFS_MARKER,))
    return count, len(blocks)


def has_unsealed_marker(store: SqlStore) -> bool:
    """True while the database still has rows from before ``0003_integrity`` to seal."""
    row = store._fetchone("SELECT 1 FROM registry_state WHERE name = 'unsealed'", ())
    return row is not None


def has_refs_marker(store: SqlStore) -> bool:
    """True while the references, mirrors and censuses of ``0012`` are still to be sealed."""
    return store._fetchone("SELECT 1 FROM registry_state WHERE name = ?",
                           (REFS_MARKER,)) is not None


# -- every sealed record, for rewrap, retire and verify ---------------------------------------


class Kind:
    """One kind of sealed record: how to read it, what its MAC covers, how to name it."""

    def __init__(
        self, table: str, term: str, mac: str, key: tuple[str, ...], select: str,
        message: Callable[[tuple[Any, ...]], Message], describe: Callable[[tuple[Any, ...]], str],
    ) -> None:
        self.table, self.term, self.mac, self.key = table, term, mac, key
        self.select = select  # key columns first, then the message fields, then term and mac
        self.message = message
        self.describe = describe


KINDS = (
    Kind(
        "block", "head_term", "head_mac", ("id",),
        "SELECT id, type_slug, name, current_version, latest_version, stages, head_term, "
        "head_mac FROM block",
        lambda r: lambda t: head_message(Head(r[0], r[1], r[2], r[3], r[4], r[5], None, None), t),
        lambda r: f"{r[1]}/{r[2]} (head)",
    ),
    Kind(
        "work_pool", "head_term", "head_mac", ("id",),
        "SELECT id, name, type, current_version, head_term, head_mac FROM work_pool",
        lambda r: pool_head_message(r[0], r[1], r[2], r[3]),
        lambda r: f"work pool {r[1]!r} (head)",
    ),
    Kind(
        "work_pool_version", "mac_term", "mac", ("pool_id", "version"),
        "SELECT v.pool_id, v.version, p.name, p.type, v.document, v.mac_term, v.mac "
        "FROM work_pool_version v JOIN work_pool p ON p.id = v.pool_id",
        lambda r: pool_version_message(r[0], r[2], r[3], r[1], r[4]),
        lambda r: f"work pool {r[2]!r} version {r[1]}",
    ),
    Kind(
        "block_ref", "mac_term", "mac", ("block_id", "path"),
        "SELECT block_id, path, ref_block_id, mac_term, mac FROM block_ref",
        lambda r: ref_message(r[0], r[1], r[2]),
        lambda r: f"the reference of the block with id {r[0]} (field {r[1]})",
    ),
    Kind(
        "block_mirror", "mac_term", "mac", ("block_id", "target"),
        "SELECT block_id, target, target_name, mac_term, mac FROM block_mirror",
        lambda r: mirror_message(r[0], r[1], r[2]),
        lambda r: f"the mirror of the block with id {r[0]} to {r[1]}",
    ),
    Kind(
        census.TABLE, "mac_term", "mac", ("name",),
        "SELECT name, members, digest, mac_term, mac FROM sealed_census",
        lambda r: census.message(r[0], r[1], r[2]),
        lambda r: census.describe(r[0]),
    ),
    Kind(
        "block_deletion", "mac_term", "mac", ("block_id",),
        "SELECT block_id, type_slug, name, deleted_at, shred_after, mac_term, mac "
        "FROM block_deletion",
        recovery.deletion_message,
        recovery.describe,
    ),
    Kind(
        "work_queue", "mac_term", "mac", ("id",),
        "SELECT q.id, q.pool_id, q.name, q.version, q.description, q.priority, "
        "q.concurrency_limit, q.is_paused, q.mac_term, q.mac FROM work_queue q",
        lambda r: queue_message(*r[:8]),
        lambda r: f"queue {r[2]!r} of the work pool with id {r[1]}",
    ),
    Kind(
        "rotation_policy", "mac_term", "mac", ("block_id",),
        "SELECT p.block_id, b.type_slug, b.name, p.policy, p.next_due_at, p.last_rotated_at, "
        "p.run, p.revoke_version, p.revoke_due_at, p.revoke_state, p.event_seq, p.mac_term, "
        "p.mac FROM rotation_policy p JOIN block b ON b.id = p.block_id",
        lambda r: rotation_seals.policy_message(r[0], r[3:11]),
        lambda r: f"{r[1]}/{r[2]} (rotation policy)",
    ),
    Kind(
        "event_log", "mac_term", "mac", ("seq",),
        "SELECT seq, prev, kind, subject, at, actor, body, mac_term, mac FROM event_log",
        lambda r: chain.event_mac_message(chain.row_digest(r) or ""),
        lambda r: f"event {r[0]} of the event log",
    ),
    Kind(
        "event_chain", "mac_term", "mac", ("name",),
        "SELECT name, seq, digest, mac_term, mac FROM event_chain",
        lambda r: chain.head_mac_message(r[0], r[1], r[2]),
        lambda r: "the event log's head",
    ),
    Kind(
        "api_token", "mac_term", "mac", ("id",),
        access_seals.TOKEN_SELECT,
        lambda r: access_seals.token_message(r),
        lambda r: access_seals.describe_token(r[1]),
    ),
    Kind(
        "access_policy", "mac_term", "mac", ("name",),
        access_seals.POLICY_SELECT,
        lambda r: access_seals.policy_message(r[0], r[1]),
        lambda r: access_seals.describe_policy(r[0]),
    ),
    Kind(
        "jwt_config", "mac_term", "mac", ("kind", "name"),
        jwt_seals.SELECT,
        lambda r: jwt_seals.message(r[0], r[1], r[2]),
        lambda r: jwt_seals.describe(r[0], r[1]),
    ),
)


def reseal(store: SqlStore, sealer: KeyringSealer, terms: list[int]) -> tuple[int, list[str]]:
    """Move the MACs of records sealed under ``terms`` to the current term.

    Each record is checked under its old term first (one that does not authenticate is left
    alone and reported), then updated with a compare-and-set on its old term and MAC.

    Returns:
        How many were moved, and the records that did not authenticate.
    """
    from sqlalchemy import text

    if not terms:
        return 0, []
    moved, failed = 0, []
    marks = ", ".join(str(int(t)) for t in terms)
    with store.engine.begin() as conn:
        for kind in KINDS:
            alias = "v." if kind.table == "work_pool_version" else (
                "q." if kind.table == "work_queue" else "")
            rows = conn.exec_driver_sql(
                f"{kind.select} WHERE {alias}{kind.term} IN ({marks})"
            ).all()
            for row in rows:
                values = tuple(row)
                term, mac = values[-2], values[-1]
                message = kind.message(values)
                if not sealer.valid(term, mac, message):
                    failed.append(kind.describe(values))
                    continue
                new_term, new_mac = sealer.sign(message)
                where = " AND ".join(f"{k} = :k{i}" for i, k in enumerate(kind.key))
                params = {f"k{i}": values[i] for i in range(len(kind.key))}
                moved += conn.execute(text(  # names are constants of KINDS, never input
                    f"UPDATE {kind.table} SET {kind.term} = :t, {kind.mac} = :m "  # noqa: S608
                    f"WHERE {where} AND {kind.term} = :ot AND {kind.mac} = :om"
                ), {**params, "t": new_term, "m": new_mac, "ot": term, "om": mac}).rowcount
    return moved, failed
