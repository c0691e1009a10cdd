"""References as the sealed documents state them, and the one-time sealing of ``0012``.

The ``block_ref`` rows are an index for fast checks; what a block references is what its
encrypted, authenticated document says (``{"$ref": "<block id>"}`` at the field's path). A
database writer can delete reference rows but cannot change a document, so deleting a block
consults the documents of every block whose type can hold a reference
(:func:`document_referrers`), and ``blocks verify`` compares each document with its rows.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from blocks import catalog
from blocks.core import REF_KEY
from blocks.crypto import envelope
from blocks.errors import UnknownBlockType
from blocks.store.recovery import is_tombstone
from blocks.store.sealing import KeyringSealer, seal_refs_and_mirrors

if TYPE_CHECKING:
    from blocks.crypto.keyring import Keyring
    from blocks.store.records import StoredVersion
    from blocks.store.sql import SqlStore


class SealedOnUpgrade(UserWarning):
    """A database upgraded to ``0012_seal_refs_mirrors`` was sealed by this process."""


def seal_upgraded(store: SqlStore, sealer: KeyringSealer) -> None:
    """Seal an upgraded database's references, mirrors and censuses once, and say so."""
    rows, blocks = seal_refs_and_mirrors(store, sealer)
    if rows or blocks:  # a new database has nothing to say
        warnings.warn(
            f"this database was upgraded (0012_seal_refs_mirrors): sealed {rows} reference and "
            f"mirror row(s) and recorded the sealed census of its {blocks} block(s) and its "
            "mirrors, once; from now on a row without a valid MAC is an integrity error",
            SealedOnUpgrade, stacklevel=3,
        )


def document_refs(document: bytes) -> dict[str, str]:
    """``{field path: block id}`` of the references in a stored document."""
    return dict(_walk(json.loads(document), ""))


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(REF_KEY), str):
            yield path, value[REF_KEY]
            return
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index))


class CheckingRegistry(Protocol):
    """What these checks need of the local registry (:class:`blocks.registry.Registry`, which
    imports this module): its store, its keyring and its check of a row's sealed head."""

    @property
    def store(self) -> SqlStore: ...

    @property
    def keyring(self) -> Keyring: ...

    def _check(self, row: StoredVersion, what: str, version: int | None) -> None: ...


def may_reference(slug: str) -> bool:
    """Whether blocks of type ``slug`` can hold references (unknown types: assume so)."""
    try:
        cls = catalog.get(slug)
    except UnknownBlockType:
        return True
    return bool(cls.block_schema().get("block_references"))


def current_document(registry: CheckingRegistry, row: StoredVersion, what: str) -> bytes | None:
    """The decrypted current document of a verified row (``None`` if it was purged)."""
    registry._check(row, what, None)
    if row.wrapped_key is None or row.ciphertext is None or row.term is None:
        return None
    assert row.version is not None
    aad = envelope.binding(row.block_id, row.type_slug, row.version)
    data_key = registry.keyring.unwrap_data_key(row.term, row.wrapped_key, aad)
    return envelope.unseal(data_key, row.ciphertext, aad)


def document_referrers(registry: CheckingRegistry, slug: str, name: str) -> list[str]:
    """The live blocks whose current documents reference ``slug/name`` (``type/name (field
    p)``). Deleted blocks in their recovery window are left out: the delete's transaction
    names them from their reference rows (they hold up a shred, not a scheduled delete).

    Decrypts the current version of each block whose type can hold a reference: the cost of a
    delete grows with the number of such blocks, never with the others.

    Raises:
        IntegrityError: a candidate's head does not authenticate (checked before it is opened).
    """
    target = registry.store.summary(slug, name)
    if target is None:
        return []
    store = registry.store
    found = []
    for (type_slug,) in store._fetchall(
        "SELECT DISTINCT type_slug FROM block ORDER BY type_slug", ()
    ):
        if not may_reference(type_slug):
            continue
        for (block_name,) in store._fetchall(
            "SELECT name FROM block WHERE type_slug = ? ORDER BY name", (type_slug,)
        ):
            if is_tombstone(block_name):
                continue
            row = store.get_version(type_slug, block_name)
            if row is None or row.block_id == target.id:
                continue
            document = current_document(registry, row, f"{type_slug}/{block_name}")
            if document is None:
                continue
            found += [f"{type_slug}/{block_name} (field {path})"
                      for path, ref in sorted(document_refs(document).items())
                      if ref == target.id]
    return found
