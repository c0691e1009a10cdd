"""The ``generated`` rotator: a new random value for a secret field, from ``secrets``.

For a :class:`~blocks.types.system.Secret` the field is ``value``; for any other type name the
secret field with the ``field`` option. There is no upstream system: ``set`` and ``revoke`` do
nothing and ``test`` checks the staged value against the policy.
"""

from __future__ import annotations

import secrets
import string
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr, model_validator

from blocks.core import Block
from blocks.errors import RotationError, ValidationError
from blocks.rotation.base import RotationContext, field_names, get_path, with_value

CharClass = Literal["lower", "upper", "digits", "symbols"]
_CLASSES: dict[str, str] = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
}
DEFAULT_SYMBOLS = "!#%+-.:=?@^_~"
MAX_LENGTH = 4096


class PasswordPolicy(BaseModel):
    """How generated values look."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    length: int = Field(default=32, ge=8, le=MAX_LENGTH, description="Characters (8-4096).")
    classes: tuple[CharClass, ...] = Field(
        default=("lower", "upper", "digits"),
        min_length=1,
        description="Character classes to draw from; each appears at least once.",
    )
    symbols: str = Field(
        default=DEFAULT_SYMBOLS, min_length=1, description="The 'symbols' class's characters."
    )
    exclude: str = Field(
        default="", description="Characters never used (e.g. quotes a shell or URL dislikes)."
    )

    @model_validator(mode="after")
    def _check(self) -> PasswordPolicy:
        for cls in self.classes:
            if not self.alphabet(cls):
                raise ValueError(f"class {cls!r} has no characters left after exclude")
        if len(set(self.classes)) > self.length:
            raise ValueError("length is shorter than the number of classes")
        return self

    def alphabet(self, cls: str) -> str:
        """The characters of one class, minus ``exclude``."""
        chars = self.symbols if cls == "symbols" else _CLASSES[cls]
        return "".join(c for c in chars if c not in self.exclude)

    def generate(self) -> str:
        """A new value: every class at least once, positions shuffled, bytes from ``secrets``."""
        alphabets = [self.alphabet(c) for c in dict.fromkeys(self.classes)]
        everything = "".join(alphabets)
        draw = _Draw()
        chars = [a[draw.below(len(a))] for a in alphabets]
        chars += [everything[draw.below(len(everything))]
                  for _ in range(self.length - len(chars))]
        for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates with a CSPRNG
            j = draw.below(i + 1)
            chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)

    def problems(self, value: str) -> list[str]:
        """Why ``value`` breaks this policy (no characters of it are quoted)."""
        out = []
        if len(value) != self.length:
            out.append(f"has {len(value)} characters, not {self.length}")
        allowed = set("".join(self.alphabet(c) for c in self.classes))
        if any(c not in allowed for c in value):
            out.append("holds characters outside the allowed classes")
        chars = set(value)
        out += [f"has no {c} character" for c in self.classes
                if not chars & set(self.alphabet(c))]
        return out


class _Draw:
    """Uniform integers below ``n`` (n <= 65536) from ``secrets`` bytes fetched in bulk.

    Rejection sampling on 16-bit draws (no modulo bias); one ``token_bytes`` call serves many
    draws, where ``secrets.randbelow`` reads the OS generator once per number.
    """

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def below(self, n: int) -> int:
        if not 0 < n <= 1 << 16:
            raise ValueError("n must be from 1 to 65536")
        limit = (1 << 16) - (1 << 16) % n
        while True:
            if self._at + 2 > len(self._pool):
                self._pool, self._at = secrets.token_bytes(512), 0
            value = int.from_bytes(self._pool[self._at:self._at + 2], "big")
            self._at += 2
            if value < limit:
                return value % n


class GeneratedOptions(PasswordPolicy):
    """Options of the ``generated`` rotator."""

    field: str | None = Field(
        default=None,
        description="Secret field to rotate (dot path); default 'value' for a Secret.",
    )


def target_field(block_type: type[Block], field: str | None) -> str:
    """The secret field a generated value goes to (validated against the type's secrets)."""
    if field is None:
        if "value" in block_type.secret_paths():
            return "value"
        raise ValidationError(
            f"rotation of {block_type.block_type_slug}",
            [("options.field", "required for this type: one of "
              f"{', '.join(block_type.secret_paths()) or '(no secret fields)'}")],
        )
    if field not in block_type.secret_paths():
        raise ValidationError(
            f"rotation of {block_type.block_type_slug}",
            [("options.field", f"{field[:80]!r} is not a secret field; use one of "
              f"{', '.join(block_type.secret_paths()) or '(none)'}")],
        )
    return field


def secret_text(value: object) -> str | None:
    """The clear text of a secret field value (``None`` if unset or not a string)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        return None
    reveal = getattr(value, "get_secret_value", None)
    inner = reveal() if reveal is not None else value
    return inner if isinstance(inner, str) else None


class GeneratedRotator:
    """A new random value under a :class:`PasswordPolicy` for one secret field."""

    name: ClassVar[str] = "generated"
    options_model: ClassVar[type[BaseModel]] = GeneratedOptions

    def check(self, block_type: type[Block], options: BaseModel) -> None:
        assert isinstance(options, GeneratedOptions)
        target_field(block_type, options.field)

    def fields(self, block_type: type[Block], options: BaseModel) -> tuple[str, ...]:
        """The field the value goes to (dot path)."""
        assert isinstance(options, GeneratedOptions)
        return (field_names(target_field(block_type, options.field), block_type),)

    def create(self, ctx: RotationContext) -> Block:
        options = ctx.options
        assert isinstance(options, GeneratedOptions)
        path = field_names(target_field(type(ctx.current), options.field), type(ctx.current))
        return with_value(ctx.current, path, options.generate())

    def set(self, ctx: RotationContext) -> None:
        """Nothing upstream to change."""

    def test(self, ctx: RotationContext) -> None:
        options = ctx.options
        assert isinstance(options, GeneratedOptions)
        path = field_names(target_field(type(ctx.current), options.field), type(ctx.current))
        new = secret_text(get_path(ctx.require_pending(), path))
        old = secret_text(get_path(ctx.current, path))
        if new is None:
            raise RotationError(ctx.ref, "test", f"the pending {path} is not a string")
        problems = options.problems(new)
        if new == old:
            problems.append("equals the current value")
        if problems:
            raise RotationError(ctx.ref, "test", f"the pending {path} " + "; ".join(problems))

    def revoke(self, ctx: RotationContext) -> None:
        """Nothing upstream accepts the previous value."""

    def cancel(self, ctx: RotationContext) -> None:
        """Nothing upstream to undo."""
