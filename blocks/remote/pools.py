"""Work pools and queues through a ``blocks server`` (``/v1/pools/...``).

:class:`RemotePoolStore` is the :class:`~blocks.pool_types.store.WorkPoolStore` a
:class:`~blocks.remote.registry.RemoteRegistry` gives ``WorkPool`` and ``WorkQueue``: the same
records and the same errors as the local store (the server sends them in the wire envelope and
the transport raises them again), so the recipe API does not know where pools live.
Reads retry and fail over; writes are sent once (a compare-and-set write that reached the
server must not be replayed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from blocks.errors import WorkPoolNotFound
from blocks.pools.queue_store import QueueRecord
from blocks.pools.store import DEFAULT_QUEUE, PoolRecord
from blocks.pools.store_protocol import RenderedView

if TYPE_CHECKING:
    from blocks.remote.transport import Transport


class RemotePoolStore:
    """Pools and queues of the registry behind a ``blocks server``.

    Args:
        transport: the client's transport (token, retries, fail-over, error envelopes).
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # -- pools ----------------------------------------------------------------------------

    def get_pool(self, name: str, version: int | None = None) -> PoolRecord | None:
        """A pool's current version, or ``version``; ``None`` when there is no such thing."""
        params = {} if version is None else {"version": version}
        try:
            return _pool(self._get(_pool_path(name), params))
        except WorkPoolNotFound:
            return None

    def list_pools(self) -> list[PoolRecord]:
        """Every pool's current version that the token may see, by name."""
        return [_pool(item) for item in self._get("/v1/pools")]

    def pool_history(self, name: str) -> list[PoolRecord]:
        """Every version of a pool, oldest first."""
        return [_pool(item) for item in self._get(_pool_path(name) + "/history")]

    def save_pool(
        self,
        name: str,
        pool_type: str,
        document: Mapping[str, Any],
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
    ) -> PoolRecord:
        """Write a new version of a pool (creating it and its default queue if new)."""
        body = {"type": pool_type, "document": dict(document), "overwrite": overwrite,
                "expected_version": expected_version, "note": note}
        return _pool(self._send("PUT", _pool_path(name), body))

    def rename_pool(self, name: str, new_name: str) -> PoolRecord:
        """Give a pool a new name: same id, versions and queues."""
        return _pool(self._send("POST", _pool_path(name) + "/rename", {"new_name": new_name}))

    def delete_pool(self, name: str) -> None:
        """Delete a pool with its versions and queues."""
        self._send("DELETE", _pool_path(name), None)

    # -- queues ---------------------------------------------------------------------------

    def list_queues(self, pool_name: str) -> list[QueueRecord]:
        """A pool's queues by priority (1 first), then name."""
        return [_queue(item) for item in self._get(_pool_path(pool_name) + "/queues")]

    def get_queue(self, pool_name: str, name: str) -> QueueRecord:
        """One queue."""
        return _queue(self._get(_queue_path(pool_name, name)))

    def create_queue(
        self,
        pool_name: str,
        name: str,
        *,
        description: str = "",
        priority: int | None = None,
        concurrency_limit: int | None = None,
        is_paused: bool = False,
    ) -> QueueRecord:
        """Add a queue to a pool; ``priority`` defaults to one below the lowest."""
        body = {"name": name, "description": description, "priority": priority,
                "concurrency_limit": concurrency_limit, "is_paused": is_paused}
        return _queue(self._send("POST", _pool_path(pool_name) + "/queues", body))

    def update_queue(
        self,
        pool_name: str,
        name: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> QueueRecord:
        """Change a queue's description, priority, concurrency limit or pause."""
        body = {"changes": dict(changes), "expected_version": expected_version}
        return _queue(self._send("PATCH", _queue_path(pool_name, name), body))

    def delete_queue(self, pool_name: str, name: str) -> None:
        """Delete a queue (never the ``default`` one)."""
        self._send("DELETE", _queue_path(pool_name, name), None)

    # -- rendering ------------------------------------------------------------------------

    def render(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        version: int | None = None,
        show_secrets: bool = False,
    ) -> RenderedView:
        """The stored pool's job rendered by the server (``POST /v1/pools/{pool}/render``):
        masked needs ``read-metadata``, ``show_secrets`` needs ``read`` on the pool and on
        every block it resolves."""
        body = {"values": dict(values or {}), "queue": queue, "version": version,
                "show_secrets": show_secrets}
        response = self._transport.request("POST", _pool_path(name) + "/render", json=body,
                                           idempotent=True)  # it changes nothing
        item = response.json()
        return RenderedView(pool=item["pool"], queue=item["queue"], pool_type=item["type"],
                            has_secrets=item["has_secrets"],
                            secrets_masked=item["secrets_masked"],
                            configuration=item["configuration"])

    # -- wire -----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self._transport.request("GET", path, params=dict(params or {}),
                                           idempotent=True)
        return response.json()

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        response = self._transport.request(method, path, json=body, idempotent=False)
        return response.json() if response.content else None


def _pool_path(name: str) -> str:
    return "/v1/pools/" + quote(name, safe="")


def _queue_path(pool: str, name: str) -> str:
    return _pool_path(pool) + "/queues/" + quote(name, safe="")


def _pool(item: Mapping[str, Any]) -> PoolRecord:
    return PoolRecord(
        id=item["id"], name=item["name"], type=item["type"], version=item["version"],
        current_version=item["current_version"], document=item["document"],
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]), note=item.get("note"),
    )


def _queue(item: Mapping[str, Any]) -> QueueRecord:
    return QueueRecord(
        id=item["id"], pool=item["pool"], name=item["name"], description=item["description"],
        priority=item["priority"], concurrency_limit=item["concurrency_limit"],
        is_paused=item["is_paused"], version=item["version"],
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )
