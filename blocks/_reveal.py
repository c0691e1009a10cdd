"""``model_dump(context={"include_secrets": True})``: secrets in clear, as Prefect does it.

pydantic masks ``SecretStr``/``SecretBytes``/``Secret[...]`` when dumping; a block's wrap
serializer calls :func:`reveal_secrets` on the dumped data when the context asks for secrets.
Nested blocks run their own serializer with the same context, so this walks one block deep.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

INCLUDE_SECRETS = "include_secrets"


def wants_secrets(context: Any) -> bool:
    """True when a serialization context asks for secrets in clear."""
    return isinstance(context, Mapping) and bool(context.get(INCLUDE_SECRETS))


def reveal_secrets(model: BaseModel, dumped: Any, mode: str) -> Any:
    """Replace the masked secrets of ``model`` in its dumped form ``dumped`` (in place)."""
    if not isinstance(dumped, dict):
        return dumped
    for name, info in type(model).model_fields.items():
        key = name if name in dumped else info.alias
        if key is None or key not in dumped:
            continue
        dumped[key] = _value(getattr(model, name), dumped[key], mode)
    return dumped


def _value(value: Any, dumped: Any, mode: str) -> Any:
    json_mode = mode == "json"
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        raw = value.get_secret_value()
        return base64.b64encode(raw).decode() if json_mode else raw
    if isinstance(value, pydantic.Secret):
        inner = value.get_secret_value()
        return to_jsonable_python(inner) if json_mode else inner
    # A nested block's own serializer already saw the context; plain models are walked here.
    if isinstance(value, BaseModel) and not hasattr(value, "block_type_slug"):
        return reveal_secrets(value, dumped, mode)
    if isinstance(value, Mapping) and isinstance(dumped, dict):
        for key, item in value.items():
            if str(key) in dumped:
                dumped[str(key)] = _value(item, dumped[str(key)], mode)
        return dumped
    if isinstance(value, list | tuple) and isinstance(dumped, list | tuple):
        return type(dumped)(_value(v, d, mode) for v, d in zip(value, dumped, strict=False))
    return dumped
