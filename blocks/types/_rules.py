"""Helpers shared by the built-in types: cross-field rule errors and lazy optional imports."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

from pydantic import SecretStr
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from blocks.errors import MissingExtraError


def raise_field_errors(model: str, problems: Sequence[tuple[str, str]]) -> None:
    """Raise one pydantic error with an entry per ``(field, message)``, if there are any.

    A model validator that raises ``ValueError`` reports at the model's root; raising a pydantic
    ``ValidationError`` instead keeps each rule's field in the path (``credentials.password``),
    which :class:`blocks.errors.ValidationError` then shows. Messages must not contain secrets.
    """
    if not problems:
        return
    raise PydanticValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(
                type=PydanticCustomError("block_rule", "{reason}", {"reason": message}),
                loc=(field,),
                input=None,
            )
            for field, message in problems
        ],
    )


def reveal(secret: SecretStr | None) -> str | None:
    """The value of an optional secret string."""
    return secret.get_secret_value() if secret is not None else None


def import_extra(module: str, *, package: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional SDK, or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(package, extra, purpose) from None
