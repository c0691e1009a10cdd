"""Deleting and re-creating referenced blocks within one apply.

Terraform deletes a block before it updates the blocks that refer to it (whether it removes
the block or replaces it without ``create_before_destroy``: measured on 1.0.3 and 1.11.4),
and Blocks refuses to delete a referenced block. Waiting in the delete for the referrers to be
re-pointed cannot work, since Terraform updates them only after the delete returns. So:

* A delete that finds referrers *retires* the block: it stays in the registry, the delete
  returns, and after every later apply call of this provider process the retiring blocks are
  deleted as soon as nothing refers to them any more (each delete is one transaction). A
  warning names the referrers, in case one of them is not updated in this apply.
* The create half of a replacement (same type and name; see :mod:`blocks_terraform.replacement`)
  takes over the block it replaces, retired or (with ``create_before_destroy``) still current,
  and writes the new object as a new version of the same block: its referrers, stored by the
  block's id, follow without a write. The delete of the deposed object then leaves the block
  alone.
"""

from __future__ import annotations

import threading
from typing import Any

from tf.utils import Diagnostics

from blocks_terraform.replacement import replaces


class Retirements:
    """Blocks this provider process retired or took over during the current apply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._retiring: dict[str, int] = {}
        self._recreated: set[str] = set()

    def delete(self, diags: Diagnostics, registry: Any, ref: str) -> None:
        """Delete ``ref``; retire it when other blocks refer to it."""
        from blocks.errors import BlockNotFound, ReferencedBlockError

        with self._lock:
            if ref in self._recreated:  # the deposed half of a create_before_destroy
                self._recreated.discard(ref)
                return
        try:
            registry.delete(ref)
        except BlockNotFound:
            return
        except ReferencedBlockError as exc:
            with self._lock:
                self._retiring[ref] = registry.summary(ref).current_version
            if replaces(ref) is None:
                diags.add_warning(
                    f"{ref} is deleted once nothing refers to it",
                    f"{ref} is still referenced by {', '.join(exc.referrers)}. Terraform "
                    "updates those after this delete, so the block stays in the registry "
                    "until no block refers to it, and is deleted then, in this apply. A "
                    "referrer that this apply does not update (one managed outside this "
                    f"configuration) keeps it: re-point that block, then delete {ref} with "
                    f"`blocks rm {ref}`.",
                )

    def create_base(self, registry: Any, ref: str) -> int:
        """The version a create of ``ref`` writes over: 0 for a new block, or the version of
        the block it replaces (retired by its delete, or still current before it)."""
        from blocks.errors import BlockNotFound

        with self._lock:
            retired = self._retiring.pop(ref, None)
        if retired is not None:
            return retired
        version = replaces(ref)
        if version is None:
            return 0
        try:
            current = registry.summary(ref).current_version
        except BlockNotFound:
            return 0
        if current != version:
            return 0  # written since the plan: "already exists", as for any other block
        with self._lock:
            self._recreated.add(ref)
        return int(current)

    def settle(self, registry: Any) -> None:
        """Delete the retired blocks that nothing refers to any more."""
        from blocks.errors import BlockNotFound, ReferencedBlockError

        with self._lock:  # held: a create taking one over waits (deletes are short)
            for ref in list(self._retiring):
                try:
                    registry.delete(ref)
                except ReferencedBlockError:
                    continue
                except BlockNotFound:
                    pass
                del self._retiring[ref]

    def __bool__(self) -> bool:
        return bool(self._retiring)
