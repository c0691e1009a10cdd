"""``blocks_work_queue``: a queue of a work pool.

``pool`` takes the pool's ``id`` (``blocks_work_pool.<label>.id``): it is unknown while the pool
is being created or replaced, and then the queue is replaced too, so replacing a pool (which
deletes its queues) converges in one apply. A renamed pool keeps its queues: the queue follows
in place. Moving a queue to another existing pool re-creates it there. ``name`` forces
replacement (the store has no queue rename). Declaring the pool's ``default`` queue adopts it
(every pool has one); destroying it only stops managing it, since it cannot be deleted.
State holds the queue's settings only.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.framework import PlanContext, Resource, guarded, is_known, report_exception
from blocks_terraform.resources.common import check_name, or_state
from blocks_terraform.resources.work_pool import POOL_NAME, prefect_hooks

DEFAULT_QUEUE = "default"
SETTINGS = ("description", "priority", "concurrency_limit", "paused")
QUEUE_NAME = "work queue name"


def check_one_pool(diags: Diagnostics, config: dict[str, Any]) -> list[str] | None:
    """The one of ``pool`` / ``work_pool_name`` the configuration gives; else report it."""
    given = [k for k in ("pool", "work_pool_name") if config.get(k) is not None]
    if len(given) == 1:
        return given
    diags.add_error(
        "Invalid pool", "give the queue's pool as `pool` or as `work_pool_name` "
        "(the terraform-provider-prefect name), exactly one of them",
        path=[given[-1]] if given else None)
    return None


def check_pool_exists(diags: Diagnostics, runtime: Any, pool: Any, key: str) -> None:
    """Report, at plan time, a known pool name that names no pool in the registry, nor one
    this plan creates (``blocks_work_pool.<label>.name`` is known while it is created)."""
    if not isinstance(pool, str) or pool in runtime.planned_pools:
        return  # unknown: the pool is created (or replaced) in this apply
    registry = runtime.registry
    from blocks.errors import WorkPoolNotFound
    from blocks.pools import WorkPool

    try:
        WorkPool.load(pool, registry=registry)
    except WorkPoolNotFound:
        diags.add_error(
            f"No work pool {pool}",
            f"{key} names the work pool {pool!r}, which is not in the registry. Declare it "
            "in this configuration (a blocks_work_pool resource) and write "
            f"`{key} = blocks_work_pool.<label>.id`, so Terraform creates it first; or create "
            "it with the blocks CLI; or fix the name.", path=[key])


def stored_anyway(ctx: Any, pool: Any, name: str, registry: Any, exc: Exception) -> Any:
    """The queue a failed create stored before it failed (publishing to Prefect): reported,
    and returned so that Terraform records it (tainted) rather than lose track of it."""
    from blocks.errors import WorkQueueNotFound

    try:
        queue = pool.queue(name, registry=registry)
    except WorkQueueNotFound:
        raise exc from None
    report_exception(ctx.diagnostics, exc)
    return queue


class WorkQueueResource(Resource):
    """The ``blocks_work_queue`` resource."""

    @classmethod
    def get_name(cls) -> str:
        return "work_queue"

    @classmethod
    def get_schema(cls) -> Any:
        return cls.make_schema(
            [
                Attribute("id", types.String(), computed=True,
                          description="`<pool>/<name>`; what `terraform import` accepts."),
                Attribute("pool", types.String(), optional=True, computed=True,
                          description="The work pool's `id` (its name): write "
                                      "`blocks_work_pool.<label>.id`, so that replacing the "
                                      "pool replaces the queue in the same apply (a literal "
                                      "name or `.name` does not). A renamed pool keeps the "
                                      "queue; another pool re-creates the queue there. Give "
                                      "this or `work_pool_name`."),
                Attribute("work_pool_name", types.String(), optional=True, computed=True,
                          description="The same as `pool`, under terraform-provider-prefect's "
                                      "name (`prefect_work_queue.work_pool_name`), so a "
                                      "configuration moves over by changing the resource "
                                      "type. Give this or `pool`."),
                Attribute("name", types.String(), required=True, requires_replace=True,
                          description="Queue name, unique in its pool. `default` adopts the "
                                      "pool's default queue. Changing it replaces the queue."),
                Attribute("description", types.String(), optional=True, computed=True,
                          description="What the queue is for. Default: empty."),
                Attribute("priority", types.Number(), optional=True, computed=True,
                          description="1 is the highest priority (>= 1); one queue per "
                                      "priority, as in Prefect: a priority another queue "
                                      "holds moves that queue (and the next ones, as far as "
                                      "needed) down. Default: one below the pool's "
                                      "lowest-priority queue."),
                Attribute("concurrency_limit", types.Number(), optional=True,
                          description="Most runs in flight from this queue (>= 0). Default: "
                                      "no limit."),
                Attribute("paused", types.Bool(), optional=True, computed=True,
                          description="A paused queue hands out no runs. Default: false."),
                Attribute("version", types.Number(), computed=True,
                          description="Current stored version of the queue."),
            ],
            description="A work queue of a work pool. Its pool must exist or be created by "
                        "the same apply: a known pool name that names no pool is refused at "
                        "plan.",
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        """Check priority and limit (names are checked at plan time)."""
        super().validate(diags, type_name, config)
        priority = config.get("priority")
        if priority is not None and is_known(priority) and priority < 1:
            diags.add_error("Invalid priority", "priority must be >= 1 (1 is the highest)",
                            path=["priority"])
        limit = config.get("concurrency_limit")
        if limit is not None and is_known(limit) and limit < 0:
            diags.add_error("Invalid concurrency_limit", "concurrency_limit must be >= 0",
                            path=["concurrency_limit"])
        check_name(diags, config.get("name"), what=QUEUE_NAME)
        for key in ("pool", "work_pool_name"):
            check_name(diags, config.get(key), key, what=POOL_NAME)
        check_one_pool(diags, config)

    def plan(self, ctx: PlanContext, prior: dict[str, Any] | None, planned: dict[str, Any]) -> Any:
        """Check names; omitted settings plan their defaults; ``version`` unknown on change."""
        cfg = ctx.config
        check_name(ctx.diagnostics, cfg.get("name"), what=QUEUE_NAME)
        given = check_one_pool(ctx.diagnostics, cfg)
        if given is None:
            return planned
        check_name(ctx.diagnostics, cfg.get(given[0]), given[0], what=POOL_NAME)
        if not ctx.diagnostics.has_errors():
            check_pool_exists(ctx.diagnostics, self.provider.runtime, cfg.get(given[0]),
                              given[0])
        planned["pool"] = planned["work_pool_name"] = cfg.get(given[0])
        if cfg.get("description") is None:
            planned["description"] = ""
        if cfg.get("paused") is None:
            planned["paused"] = False
        if cfg.get("priority") is None:
            planned["priority"] = Unknown if prior is None else prior.get("priority")
        pool, name = planned.get("pool"), planned.get("name")
        planned["id"] = f"{pool}/{name}" if is_known(pool) and is_known(name) else Unknown
        if prior is not None and not is_known(pool):
            # The pool is being created or replaced (its id is unknown): its queues go with it.
            ctx.requires_replace.add(given[0])
        if prior is None or any(planned.get(k) != prior.get(k) for k in SETTINGS):
            planned["version"] = Unknown
        return planned

    @guarded
    def create(self, ctx: Any, planned: dict[str, Any]) -> Any:
        """Create the queue (or adopt the pool's ``default`` queue)."""
        registry = self.provider.runtime.registry
        pool = self._pool(planned["pool"])
        settings = self._settings(planned)
        if planned["name"] == DEFAULT_QUEUE:
            from blocks.errors import ConflictError

            for attempt in range(3):
                # Another queue created in the same apply may take the default queue's
                # priority and so move it (a new version) between the read and the save.
                queue = pool.queue(DEFAULT_QUEUE, registry=registry)
                for key, value in settings.items():
                    if value is not None or key == "concurrency_limit":
                        setattr(queue, key, value)
                try:
                    queue.save()
                    break
                except ConflictError:
                    if attempt == 2:
                        raise
        else:
            try:
                queue = pool.create_queue(planned["name"], registry=registry, **settings)
            except Exception as exc:
                queue = stored_anyway(ctx, pool, planned["name"], registry, exc)
        return self._state(queue)

    @guarded
    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        """Store the changed settings (compare-and-set on the refreshed version).

        When ``pool`` changed: a queue that followed its renamed pool is updated in place; one
        that is not in the new pool is created there and removed from the old one.
        """
        from blocks.errors import WorkQueueNotFound

        if planned["pool"] != current["pool"]:
            try:
                queue = self._pool(planned["pool"]).queue(current["name"])
            except WorkQueueNotFound:
                created = self.create(ctx, planned)
                if created is not None:
                    self.delete(ctx, current)
                return created or current
            current = {**self._state(queue), "version": current["version"]}
        return or_state(ctx, current, lambda: self._store(current, planned))

    def _store(self, current: dict[str, Any], planned: dict[str, Any]) -> Any:
        queue = self._pool(current["pool"]).queue(current["name"])
        settings = self._settings(planned)
        if any(getattr(queue, key) != value for key, value in settings.items()
               if value is not None or key == "concurrency_limit"):
            for key, value in settings.items():
                if value is not None or key == "concurrency_limit":
                    setattr(queue, key, value)
            queue.save(expected_version=int(current["version"]))
        return self._state(queue)

    @guarded
    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        """Refresh; ``None`` (re-create) when the queue or its pool was deleted."""
        from blocks.errors import WorkPoolNotFound, WorkQueueNotFound

        try:
            queue = self._pool(current["pool"]).queue(current["name"])
        except (WorkPoolNotFound, WorkQueueNotFound):
            return None
        prefect = prefect_hooks(self.provider.runtime.registry)
        drift = prefect.queue_drift(self.provider.runtime.registry, queue) if prefect else {}
        return {**self._state(queue), **drift}

    @guarded
    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        """Delete the queue (the ``default`` queue is left in place)."""
        from blocks.errors import WorkPoolNotFound, WorkQueueNotFound

        if current["name"] == DEFAULT_QUEUE:
            return
        with contextlib.suppress(WorkPoolNotFound, WorkQueueNotFound):
            self._pool(current["pool"]).delete_queue(current["name"])
        prefect = prefect_hooks(self.provider.runtime.registry)
        if prefect is not None:
            prefect.delete_queue(self.provider.runtime.registry, current["pool"], current["name"])

    def import_(self, ctx: Any, id: str) -> dict[str, Any] | None:
        """Import by ``<pool>/<name>``."""
        pool, sep, name = id.partition("/")
        if not sep:
            ctx.diagnostics.add_error("Invalid import id", "use '<pool>/<queue name>'")
            return None
        check_name(ctx.diagnostics, pool, "pool", what=POOL_NAME)
        check_name(ctx.diagnostics, name, what=QUEUE_NAME)
        if ctx.diagnostics.has_errors():
            return None
        found = self.read(ctx, {"pool": pool, "name": name})
        if ctx.diagnostics.has_errors():
            return None
        if found is None:
            ctx.diagnostics.add_error("Cannot import", f"no work queue {id!r}")
        return found

    def _pool(self, name: str) -> Any:
        from blocks.pools import WorkPool

        return WorkPool.load(name, registry=self.provider.runtime.registry)

    @staticmethod
    def _settings(planned: dict[str, Any]) -> dict[str, Any]:
        limit, priority = planned.get("concurrency_limit"), planned.get("priority")
        return {
            "description": planned.get("description") or "",
            "priority": int(priority) if priority is not None and is_known(priority) else None,
            "concurrency_limit": int(limit) if limit is not None else None,
            "is_paused": bool(planned.get("paused")),
        }

    @staticmethod
    def _state(queue: Any) -> dict[str, Any]:
        return {
            "id": f"{queue.pool}/{queue.name}", "pool": queue.pool,
            "work_pool_name": queue.pool, "name": queue.name,
            "description": queue.description, "priority": queue.priority,
            "concurrency_limit": queue.concurrency_limit, "paused": queue.is_paused,
            "version": queue.version,
        }
