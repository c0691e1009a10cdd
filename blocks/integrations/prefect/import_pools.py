"""``blocks import prefect --pools``: work pools and their queues copied from Prefect.

Every pool and queue is read first; a pool Blocks cannot hold (a type it does not know, a
template its validation refuses) is reported and skipped, never half-written. A pool identical
to the one in Blocks is left alone, so a rerun changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from blocks.errors import BlocksError, WorkPoolNotFound
from blocks.pools import POOL_TYPES, WorkPool

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry


@dataclass
class PoolItem:
    """One pool (or queue) and what importing does with it."""

    name: str
    outcome: str
    detail: str = ""


@dataclass
class PoolImport:
    """The plan or outcome of a pool import."""

    server: str
    items: list[PoolItem] = field(default_factory=list)
    applied: bool = False

    def as_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"server": self.server, "applied": self.applied,
                "items": [vars(i) for i in self.items]}

    def render(self) -> str:
        """A plan-like text."""
        symbol = {"create": "+", "update": "~", "unchanged": "=", "unsupported": "?"}
        lines = [f"Prefect server {self.server}"]
        lines += [f"  {symbol.get(i.outcome, '!')} {i.name}: {i.outcome}"
                  + (f" ({i.detail})" if i.detail else "") for i in self.items]
        return "\n".join(lines)


def import_pools(
    client: PrefectClient, registry: Registry, *, dry_run: bool = False,
    name: str | None = None,
) -> PoolImport:
    """Copy Prefect's work pools (or the one called ``name``) and their queues into Blocks.

    Raises:
        PrefectError: the server is unreachable or refused; nothing was written.
    """
    pools = [p for p in client.paged("work_pools/filter", "the work pools")
             if name is None or p["name"] == name]
    queues = {p["name"]: list(client.paged(f"work_pools/{p['name']}/queues/filter",
                                           f"the queues of work pool {p['name']!r}"))
              for p in pools}
    result = PoolImport(server=client.api_url, applied=not dry_run)
    for theirs in sorted(pools, key=lambda p: p["name"]):
        result.items += _import_pool(theirs, queues[theirs["name"]], registry, dry_run)
    return result


def _import_pool(
    theirs: dict[str, Any], their_queues: list[dict[str, Any]], registry: Registry, dry_run: bool
) -> list[PoolItem]:
    label = f"work pool {theirs['name']}"
    if theirs["type"] not in POOL_TYPES:
        return [PoolItem(label, "unsupported",
                         f"Blocks has no pool type {theirs['type']!r} ({', '.join(POOL_TYPES)})")]
    fields = {
        "description": theirs.get("description") or "",
        "concurrency_limit": theirs.get("concurrency_limit"),
        "is_paused": bool(theirs.get("is_paused")),
        "base_job_template": theirs.get("base_job_template") or {},
    }
    try:
        wanted = WorkPool(name=theirs["name"], type=theirs["type"], **fields)
        wanted.validate_template(registry=registry)
    except BlocksError as exc:
        return [PoolItem(label, "failed", str(exc))]
    try:
        existing: WorkPool | None = WorkPool.load(theirs["name"], registry=registry)
    except WorkPoolNotFound:
        existing = None
    if existing is not None and existing.type != wanted.type:
        return [PoolItem(label, "failed",
                         f"Blocks has this pool with type {existing.type!r}, Prefect with "
                         f"{wanted.type!r}")]
    items: list[PoolItem] = []
    if existing is None:
        items.append(PoolItem(label, "create"))
        if not dry_run:
            existing = wanted.save(registry=registry)
    elif any(getattr(existing, k) != getattr(wanted, k) for k in fields):
        items.append(PoolItem(label, "update"))
        if not dry_run:
            for key in fields:
                setattr(existing, key, getattr(wanted, key))
            existing.save(registry=registry)
    else:
        items.append(PoolItem(label, "unchanged"))
    ours = {q.name: q for q in existing.queues(registry=registry)} if existing else {}
    for queue in sorted(their_queues, key=lambda q: q.get("priority") or 0):
        items.append(_import_queue(theirs["name"], queue, ours, existing, registry, dry_run))
    return items


def _import_queue(
    pool: str, theirs: dict[str, Any], ours: dict[str, Any], existing: WorkPool | None,
    registry: Registry, dry_run: bool,
) -> PoolItem:
    label = f"work queue {pool}/{theirs['name']}"
    values: dict[str, Any] = {"description": theirs.get("description") or "",
              "priority": theirs.get("priority") or 1,
              "concurrency_limit": theirs.get("concurrency_limit"),
              "is_paused": bool(theirs.get("is_paused"))}
    found = ours.get(theirs["name"])
    if found is None:
        if not dry_run and existing is not None:
            existing.create_queue(theirs["name"], registry=registry, **values)
        return PoolItem(label, "create")
    if all(getattr(found, k) == v for k, v in values.items()):
        return PoolItem(label, "unchanged")
    if not dry_run:
        for key, value in values.items():
            setattr(found, key, value)
        found.save(registry=registry)
    return PoolItem(label, "update")
