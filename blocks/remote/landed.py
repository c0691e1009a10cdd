"""Did an earlier, unanswered try of a compare-and-set save land?

The HTTP client retries a save that names ``expected_version`` (a compare-and-set cannot write
twice). When a try reached a server and its answer was lost (the replica died after the
commit, a proxy dropped the connection), the retry finds the version it expected already
moved and the server answers :class:`~blocks.errors.ConflictError`, though the write that moved
it was the client's own. :func:`landed` tells that case apart: the version after the expected
one exists and holds exactly the document (and note) this save sent. Then the save succeeded
and its :class:`VersionInfo` is the answer; anything else (another writer's document, a token
that may not read it back) leaves the conflict as it is, with a hint to look.
:func:`landed_rollback` does the same for a rollback with ``expected_version``: the version
after the expected one holds the rollback's note and the content rolled back to.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from blocks.errors import BlocksError, ConflictError
from blocks.wire import version_from

if TYPE_CHECKING:
    from blocks.remote.transport import Transport
    from blocks.store.records import VersionInfo


def landed(transport: Transport, path: str, expected_version: int, document: bytes,
           note: str | None) -> VersionInfo | None:
    """The info of version ``expected_version + 1`` of the block at ``path`` (its API path,
    ``/v1/blocks/SLUG/NAME``) if it is this save's (same document, same note), else ``None``
    (also when this token cannot read it back)."""
    try:
        info = _entry(transport, path, expected_version + 1)
        if info is None or (info.note or None) != (note or None):
            return None
        stored = _stored(transport, path, info.version)
    except BlocksError:  # no right to read it back, or it went meanwhile: cannot tell
        return None
    return info if stored is not None and stored == json.loads(document) else None


def landed_rollback(transport: Transport, path: str, expected_version: int,
                    version: int) -> VersionInfo | None:
    """The info of version ``expected_version + 1`` of the block at ``path`` if it is this
    rollback's (the rollback's note, the content of ``version``), else ``None``."""
    try:
        info = _entry(transport, path, expected_version + 1)
        if info is None or info.note != f"rollback to version {version}":
            return None
        stored = _stored(transport, path, info.version)
        wanted = _stored(transport, path, version)
    except BlocksError:
        return None
    return info if stored is not None and stored == wanted else None


def _entry(transport: Transport, path: str, version: int) -> VersionInfo | None:
    history = transport.request("GET", f"{path}/history", idempotent=True).json()
    return next((version_from(v) for v in history if v.get("version") == version), None)


def _stored(transport: Transport, path: str, version: int) -> Any:
    answer = transport.request("GET", path, idempotent=True,
                               params={"version": version, "validate": "false"}).json()
    return _document(answer.get("block") if isinstance(answer, dict) else None)


def _document(block: Any) -> Any:
    if not isinstance(block, dict) or not isinstance(block.get("document"), str):
        return None
    try:
        return json.loads(block["document"])
    except ValueError:
        return None


def unresolved(exc: ConflictError, ref: str, expected_version: int,
               what: str = "save") -> ConflictError:
    """``exc`` with a hint that the unanswered try may have saved ``ref`` itself."""
    hint = (f" (an earlier try of this {what} got no answer and may have saved it as version "
            f"{expected_version + 1}: check with 'blocks history {ref}')")
    found = type(exc)(f"{exc}{hint}")
    found.after_unanswered_try = True
    return found
