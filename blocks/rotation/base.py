"""The :class:`Rotator` protocol and the context each of its steps receives.

A rotation runs these steps, each idempotent and recorded (``tests/rotation/contract.py`` is the
one contract every rotator passes):

1. ``create``: make the pending credential (a new block value); the engine stages it as
   ``pending`` while ``current`` keeps working.
2. ``set``: make the upstream system accept it (create the key, change the password...).
3. ``test``: prove the pending credential works against the upstream system.
4. promote (the engine): ``pending`` becomes ``current``, the old current becomes ``previous``.
5. ``revoke``: after the policy's grace (or at the next rotation), the previous credential stops
   working upstream.

``cancel`` undoes ``create``/``set`` so that upstream matches ``current`` again. A step may be
re-run after a crash at any point inside it, so each checks what is already done first.
Rotators keep non-secret progress in ``context.state`` (persisted by ``context.checkpoint()``);
secrets live only in the blocks.

A rotator may also have ``fields(block_type, options) -> tuple[str, ...]``: the fields a
rotation changes (the Terraform resources leave them to rotation). Without it, every secret
field of the type is taken to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, JsonValue

from blocks.core import Block

if TYPE_CHECKING:
    from blocks.registry import Registry


@dataclass
class RotationContext:
    """What a rotator step sees.

    Attributes:
        registry: the registry (to load other blocks an option names, e.g. an admin login).
        ref: ``slug/name`` of the block being rotated.
        current: the current block (the credential in use).
        options: the policy's options, validated by the rotator's ``options_model``.
        state: the rotator's own non-secret progress (ids of created keys...).
        pending: the staged new block (set once ``create`` has run).
        previous: the block being revoked (``revoke`` only).
    """

    registry: Registry
    ref: str
    current: Block
    options: BaseModel
    state: dict[str, JsonValue] = field(default_factory=dict)
    pending: Block | None = None
    previous: Block | None = None
    _checkpoint: Callable[[], None] = lambda: None

    def checkpoint(self) -> None:
        """Persist ``state`` now (before an upstream call whose result must not be lost)."""
        self._checkpoint()

    def require_pending(self) -> Block:
        """The pending block (a step after ``create`` always has it)."""
        if self.pending is None:
            raise RuntimeError("no pending block: create has not run")
        return self.pending

    def require_previous(self) -> Block:
        """The previous block (``revoke`` always has it)."""
        if self.previous is None:
            raise RuntimeError("no previous block to revoke")
        return self.previous


@runtime_checkable
class Rotator(Protocol):
    """Changes a credential on the system it opens. See the module docstring for the steps."""

    name: ClassVar[str]
    """The name policies use, e.g. ``generated``."""
    options_model: ClassVar[type[BaseModel]]
    """The options a policy may give (pydantic model, ``extra="forbid"``)."""

    def check(self, block_type: type[Block], options: BaseModel) -> None:
        """Refuse a policy that cannot work for this block type (``ValidationError``)."""
        ...

    def create(self, ctx: RotationContext) -> Block:
        """The pending block: ``ctx.current`` with the new credential."""
        ...

    def set(self, ctx: RotationContext) -> None:
        """Make the upstream system accept ``ctx.pending``."""
        ...

    def test(self, ctx: RotationContext) -> None:
        """Raise ``RotationError`` unless ``ctx.pending`` works against the upstream system."""
        ...

    def revoke(self, ctx: RotationContext) -> None:
        """Make ``ctx.previous`` stop working upstream (never touches ``ctx.current``)."""
        ...

    def cancel(self, ctx: RotationContext) -> None:
        """Undo ``create``/``set``: upstream accepts ``ctx.current`` again, not the pending one."""
        ...


def get_path(block: BaseModel, path: str) -> Any:
    """The value at a dot path of field names (``credentials.password``)."""
    value: Any = block
    for part in path.split("."):
        value = getattr(value, part)
    return value


def with_value(block: Block, path: str, value: Any) -> Block:
    """A copy of ``block`` with the field at ``path`` set (validated) to ``value``.

    Only the models along ``path`` are copied (shallowly): nothing else is changed, so the
    rest is shared with ``block``. The copy is a new, unsaved block (no identity of ``block``).
    """
    copy = block.model_copy()
    copy.__pydantic_private__ = {**(copy.__pydantic_private__ or {}), "_block_meta": None}
    *parents, last = path.split(".")
    owner: Any = copy
    for part in parents:
        child = getattr(owner, part).model_copy()
        setattr(owner, part, child)
        owner = child
    setattr(owner, last, value)
    return copy


def field_names(path: str, model: type[BaseModel]) -> str:
    """Map a dot path of aliases or names to field names (``url`` -> ``url_``)."""
    out = []
    current: Any = model
    for part in path.split("."):
        is_model = isinstance(current, type) and issubclass(current, BaseModel)
        fields = current.model_fields if is_model else {}
        name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
        if name is None:
            raise ValueError(f"{path!r} names no field of {model.__name__}")
        out.append(name)
        current = fields[name].annotation
    return ".".join(out)
