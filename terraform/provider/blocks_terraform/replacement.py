"""What a create or delete needs to know about the replacement it may be half of.

Terraform replaces an object in two ``ApplyResourceChange`` calls, a delete and a create, in
that order by default (``create_before_destroy`` reverses it), and it updates the objects that
refer to the replaced one only after both. Blocks refuses to delete a block that another block
references, and refuses to create a block whose name is taken: so a referenced block could not
be replaced in either order. The provider never learns that two calls are halves of one
replacement, but the plan tells it enough:

* In one plan walk (one provider process) Terraform plans a replacement as an update of the
  prior object and then, with a null prior, as a create. :class:`ReplacementCalls` remembers
  the block each planned update names (``Resource.block_ref``); a create plan of a block that
  an update plan named just before carries ``{"replaces": ref, "version": n}`` as its
  ``planned_private``, which Terraform hands back to the create's apply (and, for the default
  order, to the delete's too). A create plan of a block that exists outside this state names
  no planned update, so it still fails with "already exists".
* During an apply, :func:`planned_private` gives the resource that marker (a context variable
  set around each ``ApplyResourceChange``), and the provider's ``after_apply`` hook runs after
  each one (deletes that waited for their referrers finish there, see
  ``resources/retire.py``).
"""

from __future__ import annotations

import contextvars
import json
import threading
from typing import Any

from tf import provider as tf_provider
from tf.utils import Diagnostics

_PRIVATE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "blocks_planned_private", default=None)
_SEEN_LIMIT = 10_000


def planned_private() -> dict[str, Any]:
    """The ``planned_private`` marker of the apply call being served (``{}`` when none)."""
    return _PRIVATE.get() or {}


def replaces(ref: str) -> int | None:
    """The version of ``ref`` this apply replaces, when it is half of its replacement."""
    marker = planned_private()
    version = marker.get("version")
    return int(version) if marker.get("replaces") == ref and version is not None else None


class ReplacementCalls:
    """Servicer calls that mark the create half of a replacement (mixed in front of ``tf``'s
    servicer, like ``protocol.WriteOnlyCalls``)."""

    app: Any

    def _planned_updates(self) -> dict[tuple[str, str], int]:
        seen: dict[tuple[str, str], int] | None = getattr(self, "_blocks_seen", None)
        if seen is None:
            seen = {}
            self._blocks_seen = seen
            self._blocks_seen_lock = threading.Lock()
        return seen

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        response = super().PlanResourceChange(request, context)  # type: ignore[misc]
        block_ref = getattr(self._get_res_cls(request.type_name),  # type: ignore[attr-defined]
                            "block_ref", None)
        if block_ref is None or not response.planned_state.msgpack:
            return response
        attrs = self._get_res_attrs(request.type_name)  # type: ignore[attr-defined]
        blocks = self._get_res_blocks(request.type_name)  # type: ignore[attr-defined]
        diags = Diagnostics()
        _, prior = tf_provider._decode_state(diags, attrs, blocks, request.prior_state)
        _, planned = tf_provider._decode_state(diags, attrs, blocks, response.planned_state)
        seen = self._planned_updates()
        if prior is not None:
            ref, version = block_ref(prior), prior.get("version")
            if ref is not None and version is not None:
                with self._blocks_seen_lock:
                    if len(seen) > _SEEN_LIMIT:
                        seen.clear()
                    seen[(request.type_name, ref)] = int(version)
            return response
        ref = block_ref(planned) if planned is not None else None
        with self._blocks_seen_lock:
            version = seen.get((request.type_name, ref)) if ref is not None else None
        if version is not None:
            response.planned_private = json.dumps(
                {"replaces": ref, "version": version}).encode()
        return response

    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        try:
            marker = json.loads(request.planned_private) if request.planned_private else {}
        except ValueError:
            marker = {}
        token = _PRIVATE.set(marker if isinstance(marker, dict) else {})
        try:
            response = super().ApplyResourceChange(request, context)  # type: ignore[misc]
        finally:
            _PRIVATE.reset(token)
        after_apply = getattr(self.app, "after_apply", None)
        if after_apply is not None:
            after_apply()
        return response
