"""The :class:`Block` base class: type slug, schema, secret paths. No I/O happens here.

``Block.save``/``load``/... delegate to the process's registry, which ``blocks.registry``
installs through :func:`set_registry_factory` so that this module never imports upward.
"""

from __future__ import annotations

import hashlib
import json
import re
import types
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Self,
    Union,
    get_args,
    get_origin,
)

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SecretBytes,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from blocks import _introspect, _json_schema, catalog
from blocks._async import AsyncTwins
from blocks._reveal import reveal_secrets, wants_secrets
from blocks.errors import BlockNotSaved, InvalidName, ValidationError

if TYPE_CHECKING:
    from blocks.registry import BlockSummary, Registry, VersionInfo
    from blocks.rotation.policy import RotationPolicy

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

_registry_factory: Callable[[], Registry] | None = None


@dataclass(slots=True)
class BlockMeta:
    """Identity of a saved block instance: which block, name and version it is."""

    block_id: str
    name: str
    version: int
    dirty: bool = False
    registry: Any = None
    """A weak reference to the registry it was saved to or loaded from (``block.rotation``)."""


def set_registry_factory(factory: Callable[[], Registry]) -> None:
    """Install the function that gives ``Block`` methods their default registry."""
    global _registry_factory
    _registry_factory = factory


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
        catalog.check_slug(slug)
    except ValueError:
        raise InvalidName(
            f"invalid block reference {_shown(ref)}: the type slug must be lowercase words "
            "joined by single dashes, e.g. 's3-bucket/data-lake'"
        ) from None
    return slug, validate_name(name)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else f"of {len(text)} characters"


def pydantic_errors(exc: pydantic.ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """(dot path, message) pairs from a pydantic error, without the offending input values."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(p) for p in err["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        out.append((path, err["msg"]))
    return out


HIDDEN_INPUT = "********"


def without_inputs(exc: pydantic.ValidationError) -> pydantic.ValidationError:
    """The same pydantic error with every ``input`` replaced by ``********``.

    pydantic puts the offending value (for a model-level error, the whole input, secrets
    included) into ``errors()`` and ``json()`` even with ``hide_input_in_errors``.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError(err["type"], err["msg"]), loc=err["loc"], input=HIDDEN_INPUT
        )
        for err in exc.errors(include_input=False, include_url=False, include_context=False)
    ]
    return pydantic.ValidationError.from_exception_data(exc.title, details, hide_input=True)


class InputSafeModel(BaseModel):
    """A pydantic model whose validation errors never carry the input values.

    Every block type derives from it through :class:`Block`; nested models of the built-in
    types (``AwsClientParameters``) derive from it directly.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None

    @classmethod
    def model_validate_strings(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise without_inputs(exc) from None


class Block(AsyncTwins, InputSafeModel):
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
    """Type slug; derived from the class name unless the class sets it."""
    block_schema_version: ClassVar[str] = "1"
    """Version of this type's schema; bump it when fields change incompatibly."""

    # One private attribute (not four): pydantic initialises private defaults on every
    # validation, and loads are on the hot path.
    _block_meta: BlockMeta | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "block_type_slug" not in cls.__dict__:
            cls.block_type_slug = catalog.slug_from_class_name(cls.__name__)
        catalog.check_slug(cls.block_type_slug)
        cls._secret_paths_cache = None
        cls._schema_cache = None
        _introspect.install(cls)
        catalog.register(cls)

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
        return handler(data)

    @model_serializer(mode="wrap")
    def _serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        # model_dump(context={"include_secrets": True}) reveals secrets, as in Prefect.
        dumped = handler(self)
        if wants_secrets(info.context):
            return reveal_secrets(self, dumped, info.mode)
        return dumped

    def __await__(self) -> Generator[Any, None, Self]:
        # Prefect 3 code writes ``await X.load(...)`` in async flows; load is sync here and has
        # already returned this block, so awaiting it just gives the block back.
        return _ready(self).__await__()

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
        from blocks.rotation.attached import policy_of

        return policy_of(self)

    @rotation.setter
    def rotation(self, policy: RotationPolicy | None) -> None:
        from blocks.rotation.attached import assign

        assign(self, policy)

    # -- schema ---------------------------------------------------------------------------

    @classmethod
    def secret_paths(cls) -> tuple[str, ...]:
        """Dot paths of secret values; ``*`` stands for any key of a dict or item of a list."""
        if cls._secret_paths_cache is None:
            cls._secret_paths_cache = tuple(_model_secret_paths(cls, "", set()))
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

    # -- persistence (recipe API; delegates to the registry) --------------------------------

    def save(
        self,
        name: str | None = None,
        *,
        overwrite: bool = False,
        expected_version: int | None = None,
        registry: Registry | None = None,
        mirror_to_prefect: bool = False,
    ) -> VersionInfo:
        """Save this block as a new version of ``slug/name``.

        Args:
            name: block name (see :data:`NAME_RULE`); default: the name this block was loaded
                or saved under (``block.save(overwrite=True)`` after a load, as in Prefect).
            overwrite: allow adding a version to an existing block.
            expected_version: compare-and-set; the save fails unless the block's current version
                is this one (0 means "must not exist yet").
            registry: registry to use; the process default otherwise.
            mirror_to_prefect: also keep a copy on the Prefect server from now on (every later
                save re-pushes it); needs the ``prefect`` extra. See ``blocks mirror``.

        Returns:
            The new version's metadata.

        Raises:
            BlockAlreadyExists: the block exists and neither ``overwrite`` nor
                ``expected_version`` was given.
            ConflictError: ``expected_version`` did not match.
            ValidationError: the document is invalid (field path named).
            BlockNotSaved: no ``name`` was given and the block was never saved or loaded.
        """
        if name is None:
            name = self.block_name
            if name is None:
                raise BlockNotSaved(
                    f"this {type(self).__name__} was never saved or loaded: "
                    "give a name, e.g. block.save('data-lake')"
                )
        chosen = _registry(registry)
        info = chosen.save(self, name, overwrite=overwrite, expected_version=expected_version)
        if mirror_to_prefect:
            from blocks.integrations.mirrors import add_mirror

            add_mirror(chosen, f"{type(self).block_type_slug}/{name}", "prefect")
        return info

    @classmethod
    def load(
        cls,
        name: str,
        *,
        version: int | None = None,
        validate: bool = True,
        stage: Literal["current", "pending", "previous"] | None = None,
        registry: Registry | None = None,
    ) -> Self:
        """Load a block: ``S3Bucket.load("data-lake")`` or ``Block.load("s3-bucket/data-lake")``.

        Args:
            name: block name, or ``type-slug/name``.
            version: a past version; default: the current one.
            validate: with ``False``, a stored document that no longer fits the type (fields
                added since it was saved) still loads, as in Prefect: missing fields are
                ``None``, fields that do not validate keep their stored value, and a warning
                names them. Save the block again once the fields are filled in.
            registry: registry to use; the process default otherwise.

        ``stage="previous"`` or ``"pending"`` loads a rotation's old or not-yet-promoted
        credential instead of the current one.

        Raises:
            BlockNotFound: no such block or version (also a ``ValueError``).
            UnknownBlockType: the slug names no known type.
            DecryptionError: the stored data cannot be opened with this key.
        """
        block = _registry(registry).load(
            cls._ref(name), version=version, stage=stage, validate=validate
        )
        if not isinstance(block, cls):
            raise TypeError(f"{block.block_ref} is a {type(block).__name__}, not a {cls.__name__}")
        return block

    @classmethod
    def delete(cls, name: str, *, registry: Registry | None = None) -> Deleted:
        """Delete a block and all its versions (refused while other blocks reference it).

        Returns:
            A :class:`Deleted` naming the block; ``await Block.delete(name)`` (Prefect 3's
            async form) works too and gives ``None``, the delete having run already.
        """
        ref = cls._ref(name)
        _registry(registry).delete(ref)
        return Deleted(ref)

    @classmethod
    def rename(
        cls,
        name: str,
        new_name: str,
        *,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> BlockSummary:
        """Rename a block: same id, history kept, references follow (see ``Registry.rename``)."""
        return _registry(registry).rename(
            cls._ref(name), new_name, expected_version=expected_version
        )

    @classmethod
    def history(cls, name: str, *, registry: Registry | None = None) -> list[VersionInfo]:
        """Every stored version of the block, oldest first."""
        return _registry(registry).history(cls._ref(name))

    @classmethod
    def rollback(
        cls,
        name: str,
        version: int,
        *,
        expected_version: int | None = None,
        registry: Registry | None = None,
    ) -> VersionInfo:
        """Make a new version whose content is that of ``version``."""
        return _registry(registry).rollback(
            cls._ref(name), version, expected_version=expected_version
        )

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


async def _ready(value: Any) -> Any:
    return value


class Deleted:
    """What :meth:`Block.delete` returns: ``ref`` of the deleted block. Awaiting it gives
    ``None``, as Prefect's ``await Block.delete(name)`` does (the delete has already run; use
    ``adelete`` to keep the event loop free)."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Deleted({self.ref!r})"

    def __await__(self) -> Generator[Any, None, None]:
        return _ready(None).__await__()


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    if _registry_factory is None:
        raise RuntimeError("blocks.registry was not imported")
    return _registry_factory()


def _is_secret_type(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(
        origin, SecretStr | SecretBytes | pydantic.Secret
    )


def _annotation_secret_paths(tp: Any, prefix: str, seen: set[type]) -> list[str]:
    if _is_secret_type(tp):
        return [prefix]
    origin = get_origin(tp)
    if origin is Annotated:
        return _annotation_secret_paths(get_args(tp)[0], prefix, seen)
    if origin in (Union, types.UnionType):
        found: list[str] = []
        for arg in get_args(tp):
            found += [p for p in _annotation_secret_paths(arg, prefix, seen) if p not in found]
        return found
    if origin in (dict, Mapping) and len(get_args(tp)) == 2:
        return _annotation_secret_paths(get_args(tp)[1], f"{prefix}.*", seen)
    if origin in (list, tuple, set, frozenset, Sequence):
        out: list[str] = []
        for arg in get_args(tp):
            if arg is not Ellipsis:
                out += _annotation_secret_paths(arg, f"{prefix}.*", seen)
        return out
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _model_secret_paths(tp, prefix, seen)
    return []


def _model_secret_paths(model: type[BaseModel], prefix: str, seen: set[type]) -> list[str]:
    if model in seen:
        return []
    seen = seen | {model}
    paths: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}.{key}" if prefix else key
        paths += _annotation_secret_paths(field.annotation, path, seen)
    return paths


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
