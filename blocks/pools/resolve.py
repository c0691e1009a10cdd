"""Block placeholders resolved through the registry, with the secrets they reveal recorded.

``{{ blocks.secret.db-password }}`` becomes the secret's value; any other block becomes an object
of its fields (nested blocks included), so ``{{ blocks.aws-credentials.prod.region_name }}``
picks one field. The Prefect rule applies: a block whose only field is ``value`` resolves to it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from blocks.errors import BlockNotFound
from blocks.pools.render import BlockResolver, ResolvedBlock

if TYPE_CHECKING:
    from blocks.registry import Registry


def registry_resolver(registry: Registry) -> BlockResolver:
    """A resolver that loads blocks from ``registry`` (each at most once per resolver).

    Raises (when called):
        BlockNotFound: no such block.
        DecryptionError, UnknownBlockType: as :meth:`Registry.load`.
    """

    def resolve(ref: str) -> ResolvedBlock:
        block = registry.load(ref)
        return reveal(block)

    return resolve


def block_exists(registry: Registry, ref: str) -> bool:
    """Whether ``slug/name`` is a saved block of ``registry``."""
    try:
        registry.summary(ref)
    except BlockNotFound:
        return False
    return True


def reveal(block: BaseModel) -> ResolvedBlock:
    """A block's fields as JSON with secrets in clear, and the set of those secret strings."""
    secrets: set[str] = set()
    value = _Revealer(secrets).model(block)
    if list(value) == ["value"]:
        value = value["value"]
    return ResolvedBlock(value=value, secrets=frozenset(secrets))


class _Revealer:
    def __init__(self, secrets: set[str]) -> None:
        self.secrets = secrets

    def model(self, model: BaseModel) -> dict[str, Any]:
        return {name: self.value(getattr(model, name)) for name in type(model).model_fields}

    def value(self, value: Any, secret: bool = False) -> Any:
        if isinstance(value, SecretStr):
            return self.value(value.get_secret_value(), True)
        if isinstance(value, SecretBytes):
            return self.value(base64.b64encode(value.get_secret_value()).decode(), True)
        if isinstance(value, pydantic.Secret):
            return self.value(value.get_secret_value(), True)
        if isinstance(value, BaseModel):
            return {name: self.value(getattr(value, name), secret)
                    for name in type(value).model_fields}
        if isinstance(value, Mapping):
            return {str(k): self.value(v, secret) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, secret) for v in value]
        plain = to_jsonable_python(value) if not isinstance(value, str | int | float) else value
        if secret and plain is not None and not isinstance(plain, bool):
            self.secrets.add(str(plain))
        return plain
