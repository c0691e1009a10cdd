"""Publish work pools and queues to a Prefect server: plan (a diff), then apply.

Blocks is the source of truth. :func:`plan` reads the pool and its queues from Prefect (two read
calls per pool) and compares them with Blocks; :func:`apply` sends only the writes the plan
needs, so publishing an unchanged pool costs reads only. Deleting is explicit (``prune``):
queues (and, for ``--all``, pools) that exist on Prefect but not in Blocks are only listed
unless pruning is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from blocks.errors import PrefectError, ValidationError
from blocks.integrations.prefect.templates import to_prefect_template
from blocks.pools.models import WorkPool, WorkQueue
from blocks.pools.placeholders import join_path
from blocks.pools.store import DEFAULT_QUEUE

if TYPE_CHECKING:
    from blocks.integrations.prefect.client import PrefectClient
    from blocks.registry import Registry

Action = Literal["create", "update", "delete", "extra"]
POOL_FIELDS = ("type", "description", "is_paused", "concurrency_limit", "base_job_template")
QUEUE_FIELDS = ("description", "priority", "concurrency_limit", "is_paused")
_SYMBOL = {"create": "+", "update": "~", "delete": "-", "extra": "?"}


@dataclass(frozen=True)
class Change:
    """One object to create, update or delete on Prefect (``extra``: on Prefect only, kept).

    Attributes:
        kind: ``work pool`` or ``work queue``.
        pool: the pool's name.
        queue: the queue's name (queues only).
        fields: ``name -> (value on Prefect, value in Blocks)`` of every differing field.
        body: the request body that makes Prefect match Blocks.
    """

    action: Action
    kind: Literal["work pool", "work queue"]
    pool: str
    queue: str | None = None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``pool`` or ``pool/queue``."""
        return self.pool if self.queue is None else f"{self.pool}/{self.queue}"


@dataclass
class Plan:
    """What publishing would change on one Prefect server."""

    server: str
    changes: list[Change] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    priorities: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Per pool whose queue priorities change: every queue with its priority, in order."""

    @property
    def writes(self) -> list[Change]:
        """The changes that write (``extra`` objects are only reported)."""
        return [c for c in self.changes if c.action != "extra"]

    def counts(self) -> dict[str, int]:
        """Number of changes per action."""
        return {a: sum(c.action == a for c in self.changes) for a in _SYMBOL}

    def as_json(self) -> dict[str, Any]:
        """The plan as JSON (for ``--json``)."""
        return {
            "server": self.server, "pools": self.pools,
            "changes": [
                {"action": c.action, "kind": c.kind, "name": c.name,
                 "fields": {k: {"prefect": a, "blocks": b} for k, (a, b) in c.fields.items()}}
                for c in self.changes
            ],
        }

    def render(self, *, drift: bool = False) -> str:
        """A ``terraform plan``-like text; ``drift`` words it as Prefect vs Blocks."""
        lines = [f"Prefect server {self.server}"]
        if not self.changes:
            lines.append("  no changes: Prefect matches Blocks" + (
                "" if drift else f" ({len(self.pools)} pool(s) checked)"))
            return "\n".join(lines)
        for change in self.changes:
            note = {"create": " (missing on Prefect)" if drift else " (create)",
                    "delete": " (delete)", "extra": " (only on Prefect; --prune deletes it)",
                    "update": ""}[change.action]
            lines.append(f"  {_SYMBOL[change.action]} {change.kind} {change.name}{note}")
            for name, (theirs, ours) in change.fields.items():
                if change.action == "create":
                    lines.append(f"      {name}: {_show(ours)}")
                elif change.action == "update":
                    lines.append(f"      {name}: {_show(theirs)} -> {_show(ours)}")
        counts = self.counts()
        summary = (f"{counts['create']} to create, {counts['update']} to change, "
                   f"{counts['delete']} to delete")
        if counts["extra"]:
            summary += f", {counts['extra']} only on Prefect"
        lines.append(("Drift: " if drift else "Plan: ") + summary + ".")
        return "\n".join(lines)


def _show(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- desired state -----------------------------------------------------------------------------


def pool_body(pool: WorkPool, registry: Registry) -> dict[str, Any]:
    """The pool as Prefect should hold it (the template with Blocks placeholders resolved).

    Raises:
        ValidationError: the template would publish a secret, or names a missing block.
    """
    return {
        "type": pool.type,
        "description": pool.description or None,
        "is_paused": pool.is_paused,
        "concurrency_limit": pool.concurrency_limit,
        "base_job_template": to_prefect_template(
            pool.base_job_template, registry, ref=f"work-pool/{pool.name}"
        ),
    }


def queue_body(queue: WorkQueue) -> dict[str, Any]:
    """The queue as Prefect should hold it."""
    return {
        # Not None: Prefect's work_queue.description is NOT NULL, so a PATCH with null fails
        # (HTTP 409) where a queue's description was emptied.
        "description": queue.description,
        "priority": queue.priority,
        "concurrency_limit": queue.concurrency_limit,
        "is_paused": queue.is_paused,
    }


# -- plan -----------------------------------------------------------------------------------------


def plan(
    client: PrefectClient,
    pools: Iterable[WorkPool],
    registry: Registry,
    *,
    prune: bool = False,
    all_pools: bool = False,
) -> Plan:
    """Compare ``pools`` (and their queues) with what the Prefect server holds.

    Args:
        prune: plan deleting queues (and with ``all_pools``, pools) Blocks does not have.
        all_pools: ``pools`` is every pool of Blocks, so pools only on Prefect are reported.

    Raises:
        PrefectError: the server is unreachable or refuses a read.
        ValidationError: a template cannot be published (secret or missing block).
    """
    result = Plan(server=client.api_url)
    names: set[str] = set()
    for pool in pools:
        names.add(pool.name)
        result.pools.append(pool.name)
        queues = pool.queues(registry=registry)
        changes = _plan_pool(client, pool, queues, registry, prune)
        result.changes += changes
        if any("priority" in c.fields for c in changes):
            result.priorities[pool.name] = [(q.name, q.priority) for q in queues]
    if all_pools:
        for theirs in client.paged("work_pools/filter", "the work pools"):
            name = theirs["name"]
            if name not in names:
                result.changes.append(
                    Change("delete" if prune else "extra", "work pool", name)
                )
    return result


def _plan_pool(
    client: PrefectClient, pool: WorkPool, queues: list[WorkQueue], registry: Registry,
    prune: bool,
) -> list[Change]:
    what = f"work pool {pool.name!r}"
    _check_priorities(pool.name, queues)
    desired = pool_body(pool, registry)
    theirs = client.request("GET", f"work_pools/{pool.name}", what, missing_ok=True)
    if theirs is None:
        changes = [Change("create", "work pool", pool.name,
                          fields={k: (None, v) for k, v in desired.items()},
                          body={"name": pool.name, **desired})]
        for queue in queues:
            body = queue_body(queue)
            changes.append(Change("create", "work queue", pool.name, queue.name,
                                  fields={k: (None, v) for k, v in body.items()},
                                  body={"name": queue.name, **body}))
        return changes
    if theirs.get("type") != pool.type:
        raise PrefectError(
            f"Prefect server {client.api_url} already has {what} of type "
            f"{theirs.get('type')!r}, but Blocks declares type {pool.type!r}; a pool's type "
            "cannot change: delete it on Prefect (prefect work-pool delete) or rename the pool"
        )
    changes = []
    differing = _differences(theirs, desired, POOL_FIELDS)
    if differing:
        changes.append(Change("update", "work pool", pool.name, fields=differing,
                              body={k: desired[k] for k in _top_level(differing)}))
    their_queues = {q["name"]: q for q in client.paged(
        f"work_pools/{pool.name}/queues/filter", f"the queues of {what}")}
    for queue in queues:
        body = queue_body(queue)
        found = their_queues.pop(queue.name, None)
        if found is None:
            changes.append(Change("create", "work queue", pool.name, queue.name,
                                  fields={k: (None, v) for k, v in body.items()},
                                  body={"name": queue.name, **body}))
            continue
        differing = _differences(found, body, QUEUE_FIELDS)
        if differing:
            changes.append(Change("update", "work queue", pool.name, queue.name,
                                  fields=differing,
                                  body={k: body[k] for k in _top_level(differing)}))
    for name in sorted(their_queues):
        if name != DEFAULT_QUEUE:
            changes.append(Change("delete" if prune else "extra", "work queue", pool.name, name))
    return changes


def _check_priorities(pool: str, queues: list[WorkQueue]) -> None:
    seen: dict[int, str] = {}
    errors = []
    for queue in queues:
        if queue.priority in seen:
            errors.append((
                f"queues.{queue.name}.priority",
                f"queues {seen[queue.priority]!r} and {queue.name!r} both have priority "
                f"{queue.priority}; Prefect needs one priority per queue: change one "
                f"('blocks pools queues update {pool} {queue.name} --priority N')",
            ))
        seen.setdefault(queue.priority, queue.name)
    if errors:
        raise ValidationError(f"work-pool/{pool}", errors)


def _differences(
    theirs: Mapping[str, Any], ours: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    found: dict[str, tuple[Any, Any]] = {}
    for name in fields:
        if name not in ours:
            continue
        a, b = theirs.get(name), ours[name]
        if name == "description":
            a, b = a or None, b or None
        if name == "base_job_template":
            for path, (x, y) in json_diff(a or {}, b, "base_job_template").items():
                found[path] = (x, y)
            continue
        if a != b:
            found[name] = (a, b)
    return found


def _top_level(paths: Iterable[str]) -> set[str]:
    # base_job_template differences are reported per path but sent whole.
    return {p.split(".")[0].split("[")[0] for p in paths}


def json_diff(a: Any, b: Any, path: str) -> dict[str, tuple[Any, Any]]:
    """``path -> (a's value, b's value)`` of every leaf where two JSON documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for key in list(a) + [k for k in b if k not in a]:
            out.update(json_diff(a.get(key), b.get(key), join_path(path, str(key))))
        return out
    return {} if a == b else {path: (a, b)}


# -- apply ----------------------------------------------------------------------------------------


def apply(client: PrefectClient, result: Plan) -> None:
    """Send the writes of ``result`` (pools before their queues; queues by priority).

    Raises:
        PrefectError: a write was refused; the writes before it stay (a rerun finishes).
    """
    creates_or_updates = [c for c in result.writes if c.action != "delete"]
    pools_first = sorted(
        creates_or_updates,
        key=lambda c: (c.kind == "work queue", c.body.get("priority", 0)),
    )
    for change in pools_first:
        _send(client, change)
    # Prefect keeps priorities unique by shifting the queue that holds one: setting every
    # queue in ascending order ends with exactly Blocks' priorities.
    for pool, order in result.priorities.items():
        for queue, priority in sorted(order, key=lambda item: item[1]):
            client.request("PATCH", f"work_pools/{pool}/queues/{queue}",
                           f"work queue '{pool}/{queue}'", json={"priority": priority})
    for change in result.writes:
        if change.action == "delete":
            _send(client, change)


def _send(client: PrefectClient, change: Change) -> None:
    what = f"{change.kind} {change.name!r}"
    if change.kind == "work pool":
        base = "work_pools/"
        path = base if change.action == "create" else f"{base}{change.pool}"
    else:
        base = f"work_pools/{change.pool}/queues"
        path = base if change.action == "create" else f"{base}/{change.queue}"
    body = change.body
    method = {"create": "POST", "update": "PATCH", "delete": "DELETE"}[change.action]
    if change.kind == "work queue" and change.action == "create" and change.queue == DEFAULT_QUEUE:
        # Prefect creates a pool's default queue with the pool: make it match Blocks'.
        method, path = "PATCH", f"{base}/{DEFAULT_QUEUE}"
        body = {k: v for k, v in body.items() if k != "name"}
    if change.action != "create":
        client.request(method, path, what, json=body if method != "DELETE" else None)
        return
    if client.request(method, path, what, json=body, conflict_ok=True) is None:
        # Created meanwhile (e.g. by a concurrent publish of the same pool): update it.
        name = change.queue if change.kind == "work queue" else change.pool
        update = {k: v for k, v in body.items() if k not in ("name", "type")}
        client.request("PATCH", f"{base}/{name}" if change.kind == "work queue" else
                       f"{base}{name}", what, json=update)


def publish(
    client: PrefectClient,
    pools: Iterable[WorkPool],
    registry: Registry,
    *,
    dry_run: bool = False,
    prune: bool = False,
    all_pools: bool = False,
) -> Plan:
    """Plan, and unless ``dry_run``, apply. Returns the plan.

    Raises:
        PrefectError, ValidationError: as :func:`plan` and :func:`apply`.
    """
    result = plan(client, pools, registry, prune=prune, all_pools=all_pools)
    if not dry_run:
        apply(client, result)
    return result
