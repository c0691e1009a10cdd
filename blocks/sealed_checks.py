"""The checks of ``blocks verify`` that span records: censuses, and references in documents.

Split from :mod:`blocks.verify`: a record whose MAC is valid can still be missing (a whole
block deleted, a mirror row deleted) or disagree with the sealed document that it indexes (a
``block_ref`` row deleted); these checks find both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks.errors import BlocksError
from blocks.sealed_refs import current_document, document_refs, may_reference
from blocks.store import access_seals, census, jwt_seals, recovery
from blocks.store.engine import read_only

if TYPE_CHECKING:
    from blocks.registry import Registry
    from blocks.reports import Report


def censuses(registry: Registry, report: Report) -> None:
    """Recount the blocks of each type and the mirrors; compare with the sealed censuses."""
    with read_only(registry.store.engine).connect() as conn:
        blocks = conn.exec_driver_sql("SELECT id, type_slug, name FROM block").all()
        mirrors = conn.exec_driver_sql(
            "SELECT block_id, target, target_name FROM block_mirror").all()
        stored = {str(name): (int(count), str(value)) for name, count, value in
                  conn.exec_driver_sql("SELECT name, members, digest FROM sealed_census")}
        tokens = conn.exec_driver_sql(access_seals.TOKEN_SELECT).all()
        policies = conn.exec_driver_sql(access_seals.POLICY_SELECT).all()
        jwt_rows = conn.exec_driver_sql(jwt_seals.SELECT).all()
        deleted = conn.exec_driver_sql(  # with the censuses: one moment
            "SELECT block_id, type_slug, name FROM block_deletion").all()
    # counted once, as "censuses", with the MACs (verify._sealed_records)
    access = {name: stored.pop(name) for name in access_seals.NAMES if name in stored}
    for what, detail in access_seals.recount_problems(access, tokens, policies):
        report.add("census", what, detail)
    problem = jwt_seals.recount_problem(stored.pop(jwt_seals.JWT, None), jwt_rows)
    if problem is not None:
        report.add("census", *problem)
    actual = census.recount(
        [(str(i), str(s), str(n)) for i, s, n in blocks],
        [(str(i), str(t), str(n)) for i, t, n in mirrors],
    )
    if census.MIRRORS not in stored:
        report.add("census", census.describe(census.MIRRORS), "its sealed record is missing")
        stored[census.MIRRORS] = actual[census.MIRRORS]
    values = [recovery.member(str(i), str(s), str(n)) for i, s, n in deleted]
    actual[recovery.DELETED] = (len(values), census.digest(values))
    for what, detail in census.differences(stored, actual):
        report.add("census", what, detail)


def deletions(registry: Registry, report: Report) -> None:
    """Each deleted block's head carries the tombstone, and each tombstone has its deletion."""
    with read_only(registry.store.engine).connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT d.type_slug, d.name, b.name, b.id FROM block_deletion d LEFT JOIN "
            "block b ON b.id = d.block_id UNION ALL SELECT NULL, NULL, b.name, b.id FROM "
            "block b WHERE substr(b.name, 1, 1) = '~' AND b.id NOT IN "
            "(SELECT block_id FROM block_deletion)").all()
    for slug, name, head_name, block_id in rows:  # counted with the MACs
        if slug is None:
            report.add("deletion", f"the deleted block with id {block_id}",
                       "its scheduled deletion is missing (deleted outside Blocks?)")
        elif head_name is None:
            report.add("deletion", f"{slug}/{name} (scheduled deletion)",
                       "its block's rows are missing")
        elif not recovery.is_tombstone(head_name):
            report.add("deletion", f"{slug}/{name} (scheduled deletion)",
                       "its block is live again (an old head put back?)")


def document_references(registry: Registry, report: Report, bad: set[tuple[str, Any]]) -> None:
    """Each block's reference rows must be exactly the references in its current document."""
    with read_only(registry.store.engine).connect() as conn:
        heads = conn.exec_driver_sql(
            "SELECT id, type_slug, name FROM block ORDER BY type_slug, name").all()
        indexed: dict[str, dict[str, str]] = {}
        for source, path, target in conn.exec_driver_sql(
            "SELECT block_id, path, ref_block_id FROM block_ref"
        ).all():
            indexed.setdefault(source, {})[path] = target
    for block_id, slug, name in heads:
        if ("block", block_id) in bad or (block_id not in indexed and not may_reference(slug)):
            continue
        ref = f"{slug}/{name}"
        row = registry.store.get_version(slug, name)
        try:
            document = current_document(registry, row, ref) if row is not None else None
        except BlocksError:
            continue  # reported with its versions
        if document is None:
            continue
        if (document_refs(document) != indexed.get(block_id, {})
                and not _agree_now(registry, block_id, slug, name)):
            report.add("reference", ref,
                       "its reference rows are not the references in its sealed document "
                       "(deleted or changed outside Blocks?)")


def _agree_now(registry: Registry, block_id: str, slug: str, name: str) -> bool:
    """The block's current document and its reference rows, read again as of one moment,
    agree (a save committed while verify ran changed both), or the block is gone."""
    with registry.store.snapshot():
        row = registry.store.get_version(slug, name)
        rows = registry.store._fetchall(
            "SELECT path, ref_block_id FROM block_ref WHERE block_id = ?", (block_id,))
    if row is None or row.block_id != block_id:
        return True  # deleted or renamed meanwhile: the next run checks it
    try:
        document = current_document(registry, row, f"{slug}/{name}")
    except BlocksError:
        return True  # reported with its versions
    return document is None or document_refs(document) == {str(p): str(t) for p, t in rows}
