"""``RemoteRegistry``: the Registry protocol over HTTP to ``blocks server`` (``BLOCKS_API_URL``).

Blocks come back exactly as a local load makes them: the server sends the decrypted
documents (the block's and those of the blocks it references, with ids, names and versions)
and this client decodes them with the same :func:`blocks.codec.decode`, so the block is
validated and stamped as locally. Saves send ``codec.encode``'s document.

Loads and the ETag: by default every load revalidates with ``If-None-Match``; a ``304``
re-decodes the document kept from the last answer (no transfer, no decryption on either
side). With ``BLOCKS_API_CACHE_SECONDS`` > 0 an answer younger than that is served from
memory without asking: a rotation or a save is then seen at most that many seconds late.
"""

from __future__ import annotations

import builtins
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from blocks import catalog, codec, hooks
from blocks._saving import prepare_save
from blocks.core import Block, split_ref, validate_name
from blocks.errors import ConfigurationError, ConflictError
from blocks.parsing import parse
from blocks.remote import admin, recovery
from blocks.remote.jwt_auth import jwt_auth
from blocks.remote.landed import landed, landed_rollback, unresolved
from blocks.remote.tls import server_trust
from blocks.remote.transport import Transport
from blocks.reports import KeyStatus, Report
from blocks.settings import Settings
from blocks.store.records import BlockSummary, DeletedBlock, GcResult, VersionInfo
from blocks.wire import summary_from, version_from

if TYPE_CHECKING:
    from datetime import timedelta

    from blocks._registry_recovery import RecoveryWindow
    from blocks.access.admin import AccessAdmin
    from blocks.access.jwt_store import JwtAdmin
    from blocks.remote.audit import RemoteAudit
    from blocks.remote.pools import RemotePoolStore
    from blocks.rotation_types.service import RotationService

Stage = Literal["current", "pending", "previous"]
STAGES = ("current", "pending", "previous")
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class _Answer:
    """A load's answer as the server sent it, kept for revalidation."""

    etag: str | None
    payload: dict[str, Any]
    at: float


class RemoteRegistry:
    """A registry served by ``blocks server``: the same methods as :class:`Registry`.

    Args:
        settings: ``api_url`` (one URL or several, comma-separated, for fail-over),
            ``api_token`` and ``api_cache_seconds``; ``BLOCKS_*`` from the environment when
            omitted.
        transport: the HTTP client (built from ``settings`` when omitted).
        clock: monotonic seconds, for the cache bound (injectable for tests).
    """

    def __init__(self, settings: Settings | None = None, *,
                 transport: Transport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings if settings is not None else Settings()
        if not self.settings.api_urls:
            raise ConfigurationError(
                "RemoteRegistry needs BLOCKS_API_URL (the blocks server's URL)")
        token = self.settings.api_token
        self.transport = transport or Transport(
            self.settings.api_urls, token.get_secret_value() if token is not None else None,
            verify=server_trust(self.settings.api_ca_file),
            auth=jwt_auth(self.settings))
        self._cache_seconds = self.settings.api_cache_seconds
        self._answers: dict[tuple[str, int | None, str | None, bool], _Answer] = {}
        self._lock = threading.Lock()
        self._weak = weakref.ref(self)
        self._clock = clock

    def __repr__(self) -> str:  # the URLs, never the token
        return f"RemoteRegistry(urls={self.transport.urls!r})"

    def close(self) -> None:
        """Close the HTTP connections and forget the kept answers."""
        self._answers.clear()
        self.transport.close()

    def init(self) -> None:
        """Nothing to create here: the server's registry exists; checks that it is ready."""
        self.transport.request("GET", "/v1/health/ready", idempotent=True)

    def exists(self) -> bool:
        """The server holds the registry: reads go there (it says if there is none)."""
        return True

    def where(self) -> str:
        return "the blocks server at " + ", ".join(self.transport.urls)

    @property
    def loads_on_loop(self) -> bool:
        # With a cache, a fresh answer is decoded on the loop; anything else waits on the
        # network, and the transport hands it to a worker thread (blocks._nowait).
        return self._cache_seconds > 0

    # -- blocks -------------------------------------------------------------------------

    def save(
        self,
        block: Block,
        name: str,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        note: str | None = None,
        stage: Literal["pending"] | None = None,
    ) -> VersionInfo:
        """Save ``block`` as a new version (see :meth:`blocks.registry.Registry.save`)."""
        prepared = prepare_save(block, name, stage)
        ref, encoded = prepared.ref, prepared.encoded
        body = {"document": encoded.document.decode(), "overwrite": overwrite,
                "expected_version": expected_version, "note": note, "stage": stage}
        # Idempotent only as a compare-and-set: a retried plain save could write twice.
        try:
            response = self.transport.request(
                "POST", _path(ref), json=body, idempotent=expected_version is not None)
            info = version_from(response.json())
        except ConflictError as exc:
            if expected_version is None or not exc.after_unanswered_try:
                raise
            found = landed(self.transport, _path(ref), expected_version, encoded.document,
                           note)
            if found is None:
                raise unresolved(exc, ref, expected_version) from None
            info = found  # the unanswered try saved it: this save succeeded
        finally:
            self._forget(ref)
        block._stamp(info.block_id, name, info.version, self._weak)
        prepared.attach_policy(self)
        return info

    def load(
        self,
        ref: str,
        *,
        version: int | None = None,
        stage: Stage | None = None,
        validate: bool = True,
    ) -> Block:
        """Load ``slug/name`` (see :meth:`blocks.registry.Registry.load`)."""
        slug, name = split_ref(ref)
        cls = catalog.get(slug)
        if stage is not None and stage != "current":
            if version is not None:
                raise TypeError("give version or stage, not both")
            if stage not in STAGES:
                raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
        key = (f"{slug}/{name}", version, stage, validate)
        kept = self._answers.get(key)
        if kept is not None and self._cache_seconds > 0 \
                and self._clock() - kept.at < self._cache_seconds:
            return self._decode(cls, kept.payload, validate)
        headers = {"if-none-match": kept.etag} if kept is not None and kept.etag else None
        response = self.transport.request(
            "GET", _path(f"{slug}/{name}"), headers=headers, idempotent=True,
            params={"version": version, "stage": stage,
                    "validate": None if validate else "false"},
            ok=frozenset({304}),
        )
        if response.status_code == 304 and kept is not None:
            payload = kept.payload
        else:
            payload = response.json()
        self._keep(key, _Answer(response.headers.get("etag"), payload, self._clock()))
        return self._decode(cls, payload, validate)

    def delete(self, ref: str, *, recovery_window: RecoveryWindow = None) -> None:
        """Delete ``slug/name``: into its recovery window (the server's default, or
        ``recovery_window``), or shredded at once with 0 (see ``Registry.delete``)."""
        recovery.delete(self.transport, _path(ref), recovery_window)
        self._forget(ref)

    def recovery_window(self, value: RecoveryWindow = None) -> timedelta:
        """The window a delete uses: ``value`` (checked here), or the server's setting."""
        if value is None:
            return recovery.default_window(self.transport)
        return recovery.window(value)

    def deleted(self, slug: str | None = None) -> builtins.list[DeletedBlock]:
        """The deleted blocks in their window that this token may see (``read-metadata``)."""
        return recovery.deleted(self.transport, slug)

    def deleted_refs(self) -> builtins.list[str]:
        """The names of the deleted blocks this token may see, for tab completion."""
        return sorted(d.ref for d in self.deleted())

    def undelete(self, ref: str) -> BlockSummary:
        """Bring back ``slug/name`` deleted within its window (capability ``delete``)."""
        found = recovery.undelete(self.transport, _path(ref))
        self._forget(ref)
        return found

    def gc(self, *, dry_run: bool = False) -> GcResult:
        """Shred the deleted blocks whose window has passed, on the server (``admin``)."""
        return recovery.gc(self.transport, dry_run=dry_run)

    def purge(self, ref: str, version: int) -> None:
        """Crypto-shred one earlier version (see ``KeyManager.purge``)."""
        self.transport.request("DELETE", f"{_path(ref)}/versions/{int(version)}",
                               idempotent=True)
        self._forget(ref)

    def rename(
        self, ref: str, new_name: str, *, expected_version: int | None = None
    ) -> BlockSummary:
        """Rename ``slug/name`` (same id; references follow)."""
        split_ref(ref)
        validate_name(new_name)
        response = self.transport.request(
            "POST", f"{_path(ref)}/rename", idempotent=expected_version is not None,
            json={"new_name": new_name, "expected_version": expected_version})
        self._forget(ref)
        return summary_from(response.json())

    def list(self, slug: str | None = None) -> builtins.list[BlockSummary]:
        """The blocks this token may see (or those of one type), by type and name."""
        response = self.transport.request("GET", "/v1/blocks", params={"slug": slug},
                                          idempotent=True)
        return [summary_from(item) for item in response.json()]

    def summary(self, ref: str) -> BlockSummary:
        response = self.transport.request("GET", f"{_path(ref)}/summary", idempotent=True)
        return summary_from(response.json())

    def ref_by_id(self, block_id: str) -> str:
        response = self.transport.request("GET", f"/v1/block-ids/{quote(block_id, safe='')}",
                                          idempotent=True)
        return str(response.json()["ref"])

    def history(self, ref: str) -> builtins.list[VersionInfo]:
        response = self.transport.request("GET", f"{_path(ref)}/history", idempotent=True)
        return [version_from(item) for item in response.json()]

    def rollback(
        self, ref: str, version: int, *, expected_version: int | None = None
    ) -> VersionInfo:
        try:
            response = self.transport.request(
                "POST", f"{_path(ref)}/rollback", idempotent=expected_version is not None,
                json={"version": version, "expected_version": expected_version})
            return version_from(response.json())
        except ConflictError as exc:
            if expected_version is None or not exc.after_unanswered_try:
                raise
            found = landed_rollback(self.transport, _path(ref), expected_version, version)
            if found is None:
                raise unresolved(exc, ref, expected_version, "rollback") from None
            return found  # the unanswered try rolled it back: this rollback succeeded
        finally:
            self._forget(ref)

    def parse(self, slug: str, data: Mapping[str, Any], *, ref: str = "") -> Block:
        """Build a block of type ``slug`` from JSON (``$ref`` resolved through the server)."""
        return parse(self, slug, data, ref=ref)

    def stages(self, ref: str) -> dict[str, int]:
        response = self.transport.request("GET", f"{_path(ref)}/stages", idempotent=True)
        return {str(k): int(v) for k, v in response.json().items()}

    def move_stages(
        self,
        ref: str,
        *,
        expected_current: int,
        current: int | None = None,
        pending: int | Literal["keep"] | None = "keep",
        previous: int | Literal["keep"] | None = "keep",
    ) -> None:
        """Move stages in one compare-and-set (see ``Registry.move_stages``)."""
        self.transport.request(
            "POST", f"{_path(ref)}/stages", idempotent=True,
            json={"expected_current": expected_current, "current": current,
                  "pending": pending, "previous": previous})
        self._forget(ref)

    # -- beside the blocks: filled in by the pools and rotation clients ---------------------

    def pool_store(self) -> RemotePoolStore:
        """The work pools and queues of the server's registry (``/v1/pools``)."""
        from blocks.remote.pools import RemotePoolStore  # loaded by clients that use pools

        return RemotePoolStore(self.transport)

    def rotation(self, actor: str | None = None) -> RotationService:
        """Rotation on the server (:class:`blocks.rotation.remote.RemoteRotation`: the same
        methods as the engine), recording ``actor``'s kind and the token's name."""
        found: RotationService = hooks.get(hooks.ROTATION_REMOTE)(self, actor)
        return found

    def verify(self) -> Report:
        """``blocks verify`` run by the server (capability ``admin``)."""
        return admin.verify(self.transport)

    def keys_status(self) -> KeyStatus:
        """``blocks keys status`` of the server's registry (capability ``admin``)."""
        return admin.keys_status(self.transport)

    def access(self) -> AccessAdmin:
        """Tokens and policies through the server (the token needs ``admin``)."""
        from blocks.remote.access import RemoteAccess

        return RemoteAccess(self.transport)

    @property
    def audit(self) -> RemoteAudit:
        """The server's audit trail (the token needs ``admin``)."""
        from blocks.remote.audit import RemoteAudit

        return RemoteAudit(self.transport)

    def jwt_auth(self) -> JwtAdmin:
        """JWT issuers and roles through the server (the token needs ``admin``)."""
        from blocks.remote.jwt_admin import RemoteJwtAdmin

        return RemoteJwtAdmin(self.transport)

    # -- internals ----------------------------------------------------------------------

    def _keep(self, key: tuple[str, int | None, str | None, bool], answer: _Answer) -> None:
        with self._lock:
            if len(self._answers) >= _MAX_CACHED:
                self._answers.clear()
            self._answers[key] = answer

    def _forget(self, ref: str) -> None:
        ref = "/".join(split_ref(ref))
        with self._lock:
            for key in [k for k in self._answers if k[0] == ref]:
                del self._answers[key]

    def _decode(self, cls: type[Block], payload: Mapping[str, Any], validate: bool) -> Block:
        included = {doc["id"]: doc for doc in payload.get("included", [])}
        return self._open(cls, payload["block"], included, set(), validate)

    def _open(self, cls: type[Block], doc: Mapping[str, Any], included: Mapping[str, Any],
              seen: set[str], validate: bool) -> Block:
        ref = f"{doc['type_slug']}/{doc['name']}"
        seen = seen | {doc["id"]}

        def resolve(block_id: str, expected: type[Block]) -> Block:
            if block_id in seen:
                raise ValueError("reference cycle between blocks")
            target = included.get(block_id)
            if target is None:
                raise ValueError("the referenced block no longer exists")
            target_cls = catalog.get(target["type_slug"])
            if not issubclass(target_cls, expected):
                raise ValueError(
                    f"references {target['type_slug']}/{target['name']}, "
                    f"not a {expected.__name__}"
                )
            return self._open(target_cls, target, included, seen, validate)

        block = codec.decode(cls, doc["document"].encode(), resolve, ref, validate=validate)
        block._stamp(doc["id"], doc["name"], int(doc["version"]), self._weak)
        return block


def _path(ref: str) -> str:
    slug, name = split_ref(ref)
    return f"/v1/blocks/{slug}/{name}"


def _not_served(what: str) -> str:
    return (f"{what} does not go through a blocks server yet, and BLOCKS_API_URL is set: "
            "run it where the registry is (BLOCKS_HOME or BLOCKS_DATABASE_URL)")


__all__ = ["RemoteRegistry"]
