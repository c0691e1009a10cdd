"""The :class:`Block` base class: type slug, schema, secret paths. No I/O happens here.

``Block.save``/``load``/... delegate to the process's registry, which ``blocks.registry``
installs through :func:`set_registry_factory` so that this module never imports upward.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, get_args

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from blocks import _block_base, _compat, _introspect, _json_schema, hooks
from blocks._async import AsyncTwins
from blocks._block_base import _registry as _registry
from blocks._block_base import set_registry_factory as set_registry_factory
from blocks._compat import ready
from blocks._help import BlockType
from blocks._models import HIDDEN_INPUT as HIDDEN_INPUT
from blocks._models import InputSafeModel as InputSafeModel
from blocks._models import model_secret_paths
from blocks._models import pydantic_errors as pydantic_errors
from blocks._models import without_inputs as without_inputs
from blocks._persistence import Persistence
from blocks._reveal import reveal_secrets, wants_secrets
from blocks.errors import BlockNotSaved, InvalidName, ValidationError

if TYPE_CHECKING:
    from blocks.rotation_types.policy import RotationPolicy

NAME_RULE = (
    "1-63 characters of lowercase letters, digits and dashes, starting and ending with a letter "
    "or digit (e.g. 'data-lake')"
)
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
REF_KEY = "$ref"
PREFECT_SLUG_KEY = "block_type_slug"
CONTEXT_RESOLVER = "blocks.resolver"
ROTATION_KEY = "_block_rotation"
"""Private-storage key of a rotation policy assigned to ``block.rotation`` and not saved yet."""


@dataclass(slots=True)
class BlockMeta:
    """Identity of a saved block instance: which block, name and version it is."""

    block_id: str
    name: str
    version: int
    dirty: bool = False
    registry: Any = None
    """A weak reference to the registry it was saved to or loaded from (``block.rotation``)."""


def validate_name(name: object, what: str = "block name") -> str:
    """Return ``name`` if it follows the naming rule, else raise :class:`InvalidName`."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        shown = name if isinstance(name, str) and len(name) <= 80 else type(name).__name__
        raise InvalidName(f"invalid {what} {shown!r}: use {NAME_RULE}")
    return name


def split_ref(ref: str) -> tuple[str, str]:
    """``"s3-bucket/data-lake"`` -> ``("s3-bucket", "data-lake")``, validating the name."""
    slug, sep, name = ref.partition("/")
    if not sep or not slug:
        raise InvalidName(f"invalid block reference {_shown(ref)}: use 'type-slug/name'")
    try:
        _block_base.check_slug(slug)
    except ValueError:
        raise InvalidName(
            f"invalid block reference {_shown(ref)}: the type slug must be lowercase words "
            "joined by single dashes, e.g. 's3-bucket/data-lake'"
        ) from None
    return slug, validate_name(name)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else f"of {len(text)} characters"


class Block(Persistence, AsyncTwins, InputSafeModel, metaclass=BlockType):
    """Base class of every block type.

    Subclass it with pydantic fields; secrets are ``SecretStr``, ``SecretBytes``,
    ``pydantic.Secret[...]`` or :data:`SecretDict`. A field typed as another block is stored as a
    reference when the nested block was saved or loaded, and embedded otherwise.

    Example:
        >>> class Webhook(Block):
        ...     url: str
        ...     token: SecretStr
        >>> Webhook.block_type_slug
        'webhook'
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        hide_input_in_errors=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        revalidate_instances="never",
        # Build validators on first use: importing a module of types, or the base class,
        # costs nothing until a type is actually used.
        defer_build=True,
        # A field with an alias (``schema_`` published as ``schema``) accepts both names.
        validate_by_name=True,
        validate_by_alias=True,
        # help() shows the fields (see _introspect); the JSON Schema keeps the docstring and
        # gives unions a validator accepts (see _json_schema).
        json_schema_extra=_json_schema.json_schema_extra,
    )

    block_type_slug: ClassVar[str] = "block"
    """Type slug; derived from the class name unless the class sets it (or, as in Prefect,
    ``_block_type_slug``)."""
    _block_type_slug: ClassVar[str | None] = None
    """Prefect's spelling of :attr:`block_type_slug`, so that a ported Prefect block keeps
    its slug."""
    block_schema_version: ClassVar[str] = "1"
    """Version of this type's schema; bump it when fields change incompatibly."""

    # One private attribute (not four): pydantic initialises private defaults on every
    # validation, and loads are on the hot path.
    _block_meta: BlockMeta | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "block_type_slug" not in cls.__dict__:
            prefect_slug = cls.__dict__.get("_block_type_slug")
            cls.block_type_slug = prefect_slug or _block_base.slug_from_class_name(cls.__name__)
        _block_base.check_slug(cls.block_type_slug)
        cls._secret_paths_cache = None
        cls._schema_cache = None
        _introspect.install(cls)
        _block_base.register(cls)

    _secret_paths_cache: ClassVar[tuple[str, ...] | None] = None
    _schema_cache: ClassVar[dict[str, Any] | None] = None

    def __init__(self, /, **data: Any) -> None:
        try:
            BaseModel.__init__(self, **data)
        except pydantic.ValidationError as exc:
            raise ValidationError(self.block_type_slug, pydantic_errors(exc)) from None

    # Tell pydantic this __init__ only translates errors, so that validating a nested block
    # goes through the plain validator (keeping dotted error paths) instead of calling it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            BaseModel.__setattr__(self, name, value)
        except pydantic.ValidationError as exc:
            raise ValidationError(self.block_type_slug, pydantic_errors(exc)) from None
        meta = self._block_meta
        if meta is not None and name in type(self).model_fields:
            # A saved block edited in memory must be saved before a parent can reference it.
            meta.dirty = True

    @model_validator(mode="wrap")
    @classmethod
    def _resolve_reference(
        cls,
        data: Any,
        handler: pydantic.ValidatorFunctionWrapHandler,
        info: pydantic.ValidationInfo,
    ) -> Any:
        # "wrap", not "before": in JSON mode only a wrap validator may return an instance.
        if isinstance(data, Mapping) and REF_KEY in data:
            resolver = (info.context or {}).get(CONTEXT_RESOLVER)
            if resolver is None or set(data) != {REF_KEY}:
                raise ValueError("a block reference can only be resolved by the registry")
            return resolver(data[REF_KEY], cls)
        if isinstance(data, Mapping) and PREFECT_SLUG_KEY in data:
            # Prefect documents (and Prefect's model_dump) name the type of each block.
            slug = data[PREFECT_SLUG_KEY]
            if slug != cls.block_type_slug:
                raise ValueError(f"is a {slug!r} document, not a {cls.block_type_slug!r}")
            data = {k: v for k, v in data.items() if k != PREFECT_SLUG_KEY}
        return handler(_compat.text_to_bytes(cls, data, info))

    @model_serializer(mode="wrap")
    def _serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        # model_dump(context={"include_secrets": True}) reveals secrets, as in Prefect.
        dumped = handler(self)
        if wants_secrets(info.context):
            return reveal_secrets(self, dumped, info.mode)
        return dumped

    def __eq__(self, other: object) -> bool:
        # Values only: which saved version an instance came from is not part of its value.
        return _compat.same_values(self, other)

    # Named here so that the ``__eq__`` above keeps it (Python otherwise sets ``__hash__ =
    # None``): equal blocks have equal fields, hence equal hashes.
    __hash__ = InputSafeModel.__hash__

    def __await__(self) -> Generator[Any, None, Self]:
        # Prefect 3 code writes ``await X.load(...)`` in async flows; load is sync here and has
        # already returned this block, so awaiting it just gives the block back.
        return ready(self).__await__()

    # -- identity -------------------------------------------------------------------------

    @property
    def block_id(self) -> str | None:
        """Id of the saved block this instance came from (``None`` for a new block)."""
        meta = self._block_meta
        return meta.block_id if meta else None

    @property
    def block_name(self) -> str | None:
        """Name this instance was saved or loaded under (``None`` for a new block)."""
        meta = self._block_meta
        return meta.name if meta else None

    @property
    def block_version(self) -> int | None:
        """Version this instance was saved or loaded as."""
        meta = self._block_meta
        return meta.version if meta else None

    @property
    def block_ref(self) -> str | None:
        """``slug/name`` of the saved block this instance came from."""
        meta = self._block_meta
        return f"{self.block_type_slug}/{meta.name}" if meta else None

    @property
    def block_is_modified(self) -> bool:
        """True when a field was assigned since this instance was saved or loaded."""
        meta = self._block_meta
        return meta.dirty if meta else False

    def _stamp(self, block_id: str, name: str, version: int, registry: Any = None) -> None:
        """Record that this instance is ``version`` of the saved block (registry use only)."""
        self.__pydantic_private__["_block_meta"] = BlockMeta(  # type: ignore[index]
            block_id, name, version, registry=registry)

    @property
    def rotation(self) -> RotationPolicy | None:
        """The block's rotation policy (see :mod:`blocks.rotation.attached`).

        Assign a :class:`~blocks.rotation.RotationPolicy` (checked at once against this type)
        and ``save()`` stores it right after the version; ``None`` stops rotating. Reading
        gives the assigned policy, else the one stored for the saved block, else ``None``.

        Example:
            >>> secret.rotation = RotationPolicy(rotator="generated", interval="30d")
            ... # doctest: +SKIP
            >>> secret.save("api-token")                                # doctest: +SKIP
        """
        policy: RotationPolicy | None = hooks.get(hooks.ROTATION_POLICY_OF)(self)
        return policy

    @rotation.setter
    def rotation(self, policy: RotationPolicy | None) -> None:
        hooks.get(hooks.ROTATION_ASSIGN)(self, policy)

    # -- schema ---------------------------------------------------------------------------

    @classmethod
    def secret_paths(cls) -> tuple[str, ...]:
        """Dot paths of secret values; ``*`` stands for any key of a dict or item of a list."""
        if cls._secret_paths_cache is None:
            cls._secret_paths_cache = tuple(model_secret_paths(cls, "", set()))
        return cls._secret_paths_cache

    @classmethod
    def block_schema(cls) -> dict[str, Any]:
        """The type's schema: slug, version, checksum, secret paths and JSON Schema."""
        if cls._schema_cache is None:
            json_schema = cls.model_json_schema()
            canonical = json.dumps(json_schema, sort_keys=True, separators=(",", ":"))
            cls._schema_cache = {
                "slug": cls.block_type_slug,
                "title": json_schema.get("title", cls.__name__),
                "description": (cls.__dict__.get("_block_doc_source") or "")
                .strip().split("\n\n")[0],
                "version": cls.block_schema_version,
                "checksum": "sha256:" + hashlib.sha256(canonical.encode()).hexdigest(),
                "secret_fields": list(cls.secret_paths()),
                "block_references": _block_references(cls),
                "json_schema": json_schema,
            }
        return cls._schema_cache

    # -- placeholders -----------------------------------------------------------------------

    def get_block_placeholder(self, *, prefect: bool = False) -> str:
        """The template placeholder for this saved block: ``{{ blocks.<slug>.<name> }}``.

        Args:
            prefect: Prefect's form instead, ``{{ prefect.blocks.<slug>.<name> }}``, for a
                block that is mirrored into a Prefect server under the same name.

        Raises:
            BlockNotSaved: the block was never saved or loaded.
        """
        name = self.block_name
        if name is None:
            raise BlockNotSaved(
                f"this {type(self).__name__} has no placeholder until it is saved"
            )
        prefix = "prefect.blocks" if prefect else "blocks"
        return "{{ " + f"{prefix}.{self.block_type_slug}.{name}" + " }}"

    @classmethod
    def _ref(cls, name: str) -> str:
        if "/" in name:
            slug, short = split_ref(name)
            if cls is not Block and slug != cls.block_type_slug:
                raise TypeError(
                    f"{name!r} is not a {cls.__name__} ({cls.block_type_slug}); "
                    f"use Block.load({name!r})"
                )
            return f"{slug}/{short}"
        if cls is Block:
            raise InvalidName(f"Block.load needs 'type-slug/name', got {name!r}")
        return f"{cls.block_type_slug}/{validate_name(name)}"


def _block_references(cls: type[Block]) -> dict[str, list[str]]:
    """Field name -> slugs of block types that field may reference."""
    refs: dict[str, list[str]] = {}
    for name, field in cls.model_fields.items():
        stack, slugs = [field.annotation], []
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, Block):
                slugs.append(tp.block_type_slug)
            else:
                stack.extend(get_args(tp))
        if slugs:
            refs[name] = sorted(set(slugs))
    return refs


SecretDict = dict[str, pydantic.Secret[pydantic.JsonValue]]
"""A dict whose keys are visible and whose values are secret (secret path ``field.*``)."""
