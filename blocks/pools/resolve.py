"""Block placeholders resolved through the registry, with the secrets they reveal recorded.

``{{ blocks.secret.db-password }}`` becomes the secret's value; any other block becomes an object
of its fields (nested blocks included), so ``{{ blocks.aws-credentials.prod.region_name }}``
picks one field. The Prefect rule applies: a block whose only field is ``value`` resolves to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks import codec
from blocks.core import Block
from blocks.errors import BlockNotFound
from blocks.pools.render import BlockResolver, ResolvedBlock

if TYPE_CHECKING:
    from blocks.registry_protocol import RegistryProtocol


def registry_resolver(registry: RegistryProtocol) -> BlockResolver:
    """A resolver that loads blocks from ``registry`` (each at most once per resolver).

    Raises (when called):
        BlockNotFound: no such block.
        DecryptionError, UnknownBlockType: as :meth:`Registry.load`.
    """

    def resolve(ref: str) -> ResolvedBlock:
        block = registry.load(ref)
        return reveal(block)

    return resolve


def block_exists(registry: RegistryProtocol, ref: str) -> bool:
    """Whether ``slug/name`` is a saved block of ``registry``."""
    try:
        registry.summary(ref)
    except BlockNotFound:
        return False
    return True


def reveal(block: Block) -> ResolvedBlock:
    """A block's fields as JSON with secrets in clear, and the same with secrets masked."""
    value: Any
    masked: Any
    value, masked = codec.reveal(block)
    if list(value) == ["value"]:
        value, masked = value["value"], masked["value"]
    return ResolvedBlock(value=value, masked=masked)
