"""What ``blocks server`` and its client exchange: the error envelope, and records as JSON.

A :class:`~blocks.errors.BlocksError` crosses the wire as::

    {"error": {"type": "ValidationError", "message": "<str(exc)>",
               "details": {"ref": "secret/x", "errors": [["value", "field required"]]}}}

``details`` holds the class's own attributes (``ValidationError.errors`` with the field
paths, ``ReferencedBlockError.referrers``, ``IntegrityError.what``, ...), so that
:func:`raise_from_wire` rebuilds the same class with the same message and attributes. The
messages are the ones raised locally: they name objects and fixes, never secret values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from blocks import errors
from blocks.errors import BlocksError, ServerUnavailable
from blocks.store.records import BlockSummary, DeletedBlock, GcResult, VersionInfo

STATUS: tuple[tuple[type[BlocksError], int], ...] = (
    # Most specific first: RegistryNotFound is a BlockNotFound and a ConfigurationError.
    (errors.RegistryNotFound, 404),
    (errors.BlockNotFound, 404),
    (errors.WorkPoolNotFound, 404),
    (errors.WorkQueueNotFound, 404),
    (errors.TokenNotFound, 404),
    (errors.PolicyNotFound, 404),
    (errors.ConflictError, 409),  # BlockAlreadyExists, ReferencedBlockError too
    (errors.IntegrityError, 409),
    (errors.ValidationError, 422),
    (errors.InvalidName, 422),
    (errors.InvalidArgument, 422),
    (errors.UnknownBlockType, 422),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.RateLimited, 429),
    (errors.AuditUnavailable, 503),
    (errors.KeyProviderError, 503),
    (errors.StoreError, 503),  # RegistryLockedError too
)
UNAVAILABLE = 503
"""The status of a server whose database or key provider does not answer."""


def status_of(exc: BlocksError) -> int:
    """The HTTP status of ``exc`` (400 for a :class:`BlocksError` not listed in :data:`STATUS`)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(exc: BlocksError) -> dict[str, Any]:
    """``{"error": {"type", "message", "details"}}`` for ``exc``."""
    return {"error": {"type": type(exc).__name__, "message": str(exc),
                      "details": _details(exc)}}


def error_response(exc: BlocksError) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` of the envelope for ``exc``."""
    return status_of(exc), error_body(exc)


def raise_from_wire(status: int, body: Any, server: str) -> NoReturn:
    """Raise the error an envelope describes: the same class, message and attributes.

    A body that is not an envelope (a proxy's error page, a server of something else) raises
    :class:`ServerUnavailable` naming ``server`` and the status. A 503 (the server's database
    or key provider is down) keeps its class and says which server reported it.

    Raises:
        BlocksError: always.
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        raise ServerUnavailable(
            f"the blocks server at {server} answered HTTP {status} without a Blocks error "
            "(is BLOCKS_API_URL the address of a blocks server?)"
        )
    message = error["message"]
    if status == UNAVAILABLE:
        message = f"{message} (reported by the blocks server at {server})"
    cls = _classes().get(str(error.get("type")), BlocksError)
    exc = cls.__new__(cls)
    BaseException.__init__(exc, message)
    details = error.get("details")
    if isinstance(details, dict):
        for key, value in details.items():
            if isinstance(key, str) and not key.startswith("_"):
                setattr(exc, key, _restore(value))
    raise exc


def _classes() -> dict[str, type[BlocksError]]:
    found: dict[str, type[BlocksError]] = {}
    stack: list[type[BlocksError]] = [BlocksError]
    while stack:
        cls = stack.pop()
        if cls.__module__ == errors.__name__:
            found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def _details(exc: BlocksError) -> dict[str, Any]:
    return {key: _plain(value) for key, value in vars(exc).items()
            if not key.startswith("_") and _is_plain(value)}


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain(item) for item in value)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _restore(value: Any) -> Any:
    # Lists of pairs (ValidationError.errors, field_errors) were tuples before they were JSON.
    if isinstance(value, list):
        return [tuple(_restore(v) for v in item) if isinstance(item, list) else item
                for item in value]
    return value


# -- records ----------------------------------------------------------------------------------


def version_json(info: VersionInfo) -> dict[str, Any]:
    """A :class:`VersionInfo` as JSON (timestamps in ISO 8601 with their offset)."""
    return {"block_id": info.block_id, "type_slug": info.type_slug, "name": info.name,
            "version": info.version, "created_at": info.created_at.isoformat(),
            "term": info.term, "schema_checksum": info.schema_checksum, "note": info.note,
            "shredded": info.shredded}


def version_from(data: Mapping[str, Any]) -> VersionInfo:
    """The :class:`VersionInfo` of :func:`version_json`'s output."""
    return VersionInfo(
        data["block_id"], data["type_slug"], data["name"], int(data["version"]),
        datetime.fromisoformat(data["created_at"]), data.get("term"), data["schema_checksum"],
        data.get("note"), bool(data.get("shredded", False)),
    )


def summary_json(summary: BlockSummary) -> dict[str, Any]:
    """A :class:`BlockSummary` as JSON."""
    return {"id": summary.id, "type_slug": summary.type_slug, "name": summary.name,
            "current_version": summary.current_version,
            "created_at": summary.created_at.isoformat(),
            "updated_at": summary.updated_at.isoformat()}


def summary_from(data: Mapping[str, Any]) -> BlockSummary:
    """The :class:`BlockSummary` of :func:`summary_json`'s output."""
    return BlockSummary(
        data["id"], data["type_slug"], data["name"], int(data["current_version"]),
        datetime.fromisoformat(data["created_at"]), datetime.fromisoformat(data["updated_at"]),
    )


def deleted_json(deleted: DeletedBlock) -> dict[str, Any]:
    """A :class:`DeletedBlock` (a block in its recovery window) as JSON."""
    return {"id": deleted.id, "type_slug": deleted.type_slug, "name": deleted.name,
            "deleted_at": deleted.deleted_at.isoformat(),
            "shred_after": deleted.shred_after.isoformat()}


def deleted_from(data: Mapping[str, Any]) -> DeletedBlock:
    """The :class:`DeletedBlock` of :func:`deleted_json`'s output."""
    return DeletedBlock(
        data["id"], data["type_slug"], data["name"], datetime.fromisoformat(data["deleted_at"]),
        datetime.fromisoformat(data["shred_after"]),
    )


def gc_json(result: GcResult) -> dict[str, Any]:
    """A :class:`GcResult` as JSON (a waiting block with the reason it waits)."""
    return {"due": [deleted_json(d) for d in result.due],
            "shredded": [deleted_json(d) for d in result.shredded],
            "waiting": [{**deleted_json(d), "reason": why} for d, why in result.waiting]}


def gc_from(data: Mapping[str, Any]) -> GcResult:
    """The :class:`GcResult` of :func:`gc_json`'s output."""
    return GcResult(
        shredded=[deleted_from(d) for d in data.get("shredded", [])],
        waiting=[(deleted_from(d), str(d.get("reason", ""))) for d in data.get("waiting", [])],
        due=[deleted_from(d) for d in data.get("due", [])],
    )
