"""Helpers shared by the built-in types: rule errors, union error paths, lazy optional imports."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

from pydantic import SecretStr
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from blocks.errors import MissingExtraError, UnusualValueWarning


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


def warn_unusual(model: str, field: str, message: str) -> None:
    """Warn (:class:`UnusualValueWarning`) about a value AWS or a service would still accept.

    Validation refuses only what cannot work; a legacy bucket name or a private region name
    is kept, with this warning. Messages must not contain secrets.
    """
    warnings.warn(f"{model}.{field}: {message}", UnusualValueWarning, stacklevel=4)


def reveal(secret: SecretStr | None) -> str | None:
    """The value of an optional secret string."""
    return secret.get_secret_value() if secret is not None else None


def import_extra(module: str, *, package: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional SDK, or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(package, extra, purpose) from None


@contextmanager
def strip_union_tags(model: str, field: str, tags: set[str]) -> Iterator[None]:
    """Re-raise a pydantic error without the tag of a tagged-union field in its paths.

    pydantic reports an error inside a tagged union under the member's tag
    (``credentials.aws.aws_secret_access_key``); people expect ``credentials.<field>``.
    """
    try:
        yield
    except PydanticValidationError as exc:
        details: list[InitErrorDetails] = []
        seen: set[tuple[tuple[str | int, ...], str]] = set()
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            loc = tuple(err["loc"])
            if len(loc) >= 2 and loc[0] == field and loc[1] in tags:
                # Also drop the labels pydantic gives validated members of a nested union.
                rest = [p for p in loc[2:]
                        if not (isinstance(p, str) and p.startswith("function-"))]
                loc = (field, *rest)
            if (loc, err["msg"]) in seen:
                continue
            seen.add((loc, err["msg"]))
            details.append(InitErrorDetails(
                type=PydanticCustomError("block_rule", "{reason}", {"reason": err["msg"]}),
                loc=loc, input=None,
            ))
        raise PydanticValidationError.from_exception_data(model, details) from None
