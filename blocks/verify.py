"""``blocks verify``: check that everything stored authenticates and resolves (like git fsck).

Example:
    >>> from blocks import Registry
    >>> from blocks.verify import verify
    >>> report = verify(Registry())                                    # doctest: +SKIP
    >>> report.ok, report.checked["versions"]                          # doctest: +SKIP
    (True, 1200)

Walks every keyring term (unwrapped with the master key), every sealed record (block heads,
pool heads, pool versions, queues, rotation policies, events, API tokens and access policies:
their MACs), every block version
(opened and validated, references resolved), every reference row, every pool with its queues,
the event chain's links and head, and each rotation policy against the chain. Nothing is
repaired; the report lists each problem once with what it concerns, never a stored value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks import sealed_checks
from blocks.crypto.keyring import term_context
from blocks.errors import BlocksError
from blocks.reports import Problem as Problem
from blocks.reports import Report as Report
from blocks.sealed_refs import current_document
from blocks.store import audit_log
from blocks.store.engine import read_only
from blocks.store.recovery import is_tombstone
from blocks.store.sealing import KINDS

if TYPE_CHECKING:
    from blocks.registry import Registry


_KIND_NAMES = {"block": "head", "work_pool": "pool-head", "work_pool_version": "pool-version",
               "work_queue": "queue", "rotation_policy": "rotation-policy",
               "event_log": "event", "event_chain": "event-chain"}
_KIND_NAMES.update({"block_ref": "reference-row", "block_mirror": "mirror",
                    "sealed_census": "census", "api_token": "token",
                    "access_policy": "access-policy", "block_deletion": "deletion",
                    "jwt_config": "jwt-config"})


def plural(kind: str) -> str:
    """How ``blocks verify`` counts ``kind``: ``census`` -> ``censuses``, ``access-policy`` ->
    ``access-policies``, ``head`` -> ``heads``."""
    if kind.endswith(("s", "x", "sh", "ch")):
        return kind + "es"
    if kind.endswith("y") and kind[-2:-1] not in ("a", "e", "o", "u"):
        return kind[:-1] + "ies"
    return kind + "s"


def verify(registry: Registry) -> Report:
    """Check the whole registry; see the module docstring.

    Raises:
        KeyProviderError, KeyringError: the master key itself is unusable (nothing can be
            checked without it).
    """
    report = Report()
    _terms(registry, report)
    if report.problems:
        return report  # the keyring does not load: nothing else can be checked
    bad = _sealed_records(registry, report)
    _versions(registry, report, bad)
    _references(registry, report)
    sealed_checks.censuses(registry, report)
    sealed_checks.deletions(registry, report)
    sealed_checks.document_references(registry, report, bad)
    _pools(registry, report, bad)
    _rotation(registry, report)
    if not audit_log.HashKey(registry.store.writer, registry.keyring).opens():
        report.add("audit-key", "the audit hash key", "does not open (altered outside Blocks?): "
                   "the hashed values of the audit records can no longer be searched")
    return report


def _terms(registry: Registry, report: Report) -> None:
    provider = registry.keyring.provider
    for record in registry.store.load_terms():
        report.checked["terms"] += 1
        try:
            provider.unwrap(record.wrapped_key, term_context(record.term))
        except BlocksError:
            report.add("term", f"keyring term {record.term}",
                       "does not open with the configured master key")


def _sealed_records(registry: Registry, report: Report) -> set[tuple[str, Any]]:
    """Check every MAC; returns the keys of the records that failed."""
    sealer = registry.sealer
    bad: set[tuple[str, Any]] = set()
    with read_only(registry.store.engine).connect() as conn:
        for kind in KINDS:
            for row in conn.exec_driver_sql(kind.select).all():
                values = tuple(row)
                name = _KIND_NAMES[kind.table]
                report.checked[plural(name)] += 1
                if not sealer.valid(values[-2], values[-1], kind.message(values)):
                    key = values[: len(kind.key)]
                    bad.add((kind.table, key[0] if len(key) == 1 else key))
                    report.add(_KIND_NAMES[kind.table], kind.describe(values),
                               "does not authenticate (altered outside Blocks?)")
    return bad


def _versions(registry: Registry, report: Report, bad: set[tuple[str, Any]]) -> None:
    with read_only(registry.store.engine).connect() as conn:
        heads = conn.exec_driver_sql(
            "SELECT id, type_slug, name, latest_version FROM block ORDER BY type_slug, name"
        ).all()
        numbers: dict[str, list[int]] = {}
        for block_id, version in conn.exec_driver_sql(
            "SELECT block_id, version FROM block_version ORDER BY block_id, version"
        ).all():
            numbers.setdefault(block_id, []).append(version)
    for block_id, slug, name, latest in heads:
        if ("block", block_id) in bad:
            continue  # its head is already reported; its versions cannot be trusted
        ref = f"{slug}/{name}"
        have = numbers.get(block_id, [])
        expected = list(range(1, int(latest) + 1)) if isinstance(latest, int) else []
        if have != expected:
            report.add("version", ref, "versions are missing from its history or beyond its "
                                       "sealed head")
        for version in have:
            report.checked["versions"] += 1
            try:
                if is_tombstone(name):  # in its recovery window: opened, not loaded by name
                    row = registry.store.get_version(slug, name, version)
                    if row is not None:
                        current_document(registry, row, f"the deleted {ref}")
                    continue
                registry.load(ref, version=version)
            except BlocksError as exc:
                if "purged" in str(exc):
                    continue  # crypto-shredded on purpose
                if _moved(registry, block_id, name, latest):
                    break  # renamed, deleted or saved by another process meanwhile: next run
                report.add("version", f"{ref} version {version}", _first_line(exc))


def _moved(registry: Registry, block_id: str, name: str, latest: Any) -> bool:
    """True if the block's head no longer has the name and latest version verify read (a
    rename, delete or save committed since; its sealed head is checked with the others)."""
    row = registry.store._fetchone(
        "SELECT name, latest_version FROM block WHERE id = ?", (block_id,))
    return row is None or (row[0], row[1]) != (name, latest)


def _references(registry: Registry, report: Report) -> None:
    with read_only(registry.store.engine).connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT b.type_slug, b.name, r.path, r.ref_block_id, t.id FROM block_ref r "
            "JOIN block b ON b.id = r.block_id LEFT JOIN block t ON t.id = r.ref_block_id "
            "ORDER BY b.type_slug, b.name, r.path"
        ).all()
    for slug, name, path, target, found in rows:
        report.checked["references"] += 1
        if found is None:
            report.add("reference", f"{slug}/{name} field {path}",
                       f"references block id {target}, which does not exist")


def _pools(registry: Registry, report: Report, bad: set[tuple[str, Any]]) -> None:
    from blocks.pools import WorkPool

    with read_only(registry.store.engine).connect() as conn:
        pools = conn.exec_driver_sql("SELECT id, name FROM work_pool ORDER BY name").all()
        queue_pools: dict[Any, Any] = {
            qid: pool_id
            for qid, pool_id in conn.exec_driver_sql("SELECT id, pool_id FROM work_queue")
        }
    bad_versions = {key[0] for table, key in bad if table == "work_pool_version"}
    bad_queues = {queue_pools.get(key) for table, key in bad if table == "work_queue"}
    for pool_id, name in pools:
        report.checked["pools"] += 1
        if ("work_pool", pool_id) in bad or pool_id in bad_versions:
            continue  # already reported record by record
        try:
            WorkPool.history(name, registry=registry)
            if pool_id not in bad_queues:
                WorkPool.load(name, registry=registry).queues(registry=registry)
        except BlocksError as exc:
            report.add("pool", f"work pool {name!r}", _first_line(exc))


def _rotation(registry: Registry, report: Report) -> None:
    """The event chain's links and head, and each policy row against the chain."""
    from blocks.rotation.audit import chain_problems

    for kind, what, detail in chain_problems(registry):
        report.add(kind, what, detail)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
