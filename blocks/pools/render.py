"""Rendering a base job template into the job a worker runs. No I/O: blocks come from a resolver.

Order: the variables' defaults, then the given values (``env`` merged key by key), checked
against the ``variables`` schema; ``{{ blocks.<slug>.<name> }}`` placeholders in the values are
resolved; then every placeholder of ``job_configuration`` is filled in, and the type's worker
preparation is applied (Kubernetes and ECS want ``env`` as a list of name/value pairs, commands
as argument lists). A key whose whole value is an unset (or null) variable is left out, and so is
an object or list that left-out keys emptied.
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blocks.codec import MASK
from blocks.errors import BlockNotFound, ValidationError
from blocks.pools.placeholders import PLACEHOLDER_RE, Placeholder, join_path, whole
from blocks.pools.validation import value_errors

MERGED_VARIABLES = ("env",)
POOL_LABEL = "blocks.io/work-pool"
QUEUE_LABEL = "blocks.io/work-queue"


@dataclass(frozen=True)
class ResolvedBlock:
    """A block as a template sees it.

    Attributes:
        value: the JSON value that replaces the placeholder (a ``Secret``'s value; other blocks'
            fields as an object, nested blocks included), secrets revealed.
        masked: the same value as people may see it: every secret replaced by ``********``
            (a block without secrets passes ``value`` again).
    """

    value: Any
    masked: Any


BlockResolver = Callable[[str], ResolvedBlock]
"""``"slug/name"`` -> the resolved block; raises :class:`BlockNotFound` when missing."""


@dataclass(frozen=True)
class RenderedJob:
    """The job a worker runs, with every placeholder filled in.

    ``configuration`` holds resolved secrets in clear; ``repr()`` and :meth:`masked` do not.

    Attributes:
        pool_type: ``process``, ``docker``, ``ecs`` or ``kubernetes``.
        configuration: the rendered ``job_configuration``.
        pool: name of the pool rendered from (empty when rendered from a bare template).
        queue: name of the queue the job was rendered for.
        shown: the same job rendered with each secret's masked form in place of its value
            (what :meth:`masked` returns a copy of).
    """

    pool_type: str
    configuration: dict[str, Any] = field(repr=False)
    pool: str = ""
    queue: str = ""
    shown: dict[str, Any] = field(default_factory=dict, repr=False)

    def masked(self) -> dict[str, Any]:
        """``configuration`` with every resolved secret replaced by ``********``.

        The masks sit exactly where secrets were substituted: the job is rendered a second
        time from the secrets' masked forms, so no secret text, whatever its quotes or
        escapes, reaches this view, and configuration that merely resembles a secret stays.
        """
        return copy.deepcopy(self.shown)

    @property
    def has_secrets(self) -> bool:
        """True when a secret was substituted somewhere in ``configuration``."""
        return self.shown != self.configuration

    def __repr__(self) -> str:
        return (
            f"RenderedJob(pool_type={self.pool_type!r}, pool={self.pool!r}, "
            f"queue={self.queue!r}, configuration={self.masked()!r})"
        )


def render_job(
    template: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    *,
    pool_type: str,
    resolver: BlockResolver | None = None,
    ref: str = "",
    pool: str = "",
    queue: str = "",
) -> RenderedJob:
    """Render a base job template with job-variable ``values``.

    Args:
        template: ``{"job_configuration": ..., "variables": ...}`` (validated beforehand).
        values: job variables overriding the defaults; ``env`` is merged over the default's.
        pool_type: selects the worker preparation step.
        resolver: resolves ``{{ blocks.<slug>.<name> }}``; a block placeholder without one is an
            error.
        ref: what errors name, e.g. ``work-pool/k8s``.
        pool: pool name, recorded and added as the ``blocks.io/work-pool`` label.
        queue: queue name, recorded and added as the ``blocks.io/work-queue`` label.

    Returns:
        The rendered job.

    Raises:
        ValidationError: a value is not declared or breaks its schema (path
            ``job_variables.<name>``), or a block placeholder cannot be resolved.

    Example:
        >>> from blocks.pools import default_base_job_template
        >>> job = render_job(default_base_job_template("process"), {"command": "echo hi"},
        ...                  pool_type="process")
        >>> job.configuration["command"]
        'echo hi'
    """
    variables: Mapping[str, Any] = template.get("variables", {})
    merged = merge_values(variables, values or {}, ref=ref)
    cache: dict[str, ResolvedBlock] = {}
    system_labels = {k: v for k, v in ((POOL_LABEL, pool), (QUEUE_LABEL, queue)) if v}
    if "labels" not in variables.get("properties", {}):
        system_labels = {}

    def one_pass(masked: bool) -> dict[str, Any]:
        resolving = _Resolving(resolver, ref, cache, masked=masked)
        resolved = {
            name: resolving.fill_value(value, join_path("job_variables", name))
            for name, value in merged.items()
        }
        if system_labels:
            resolved["labels"] = {**(resolved.get("labels") or {}), **system_labels}
        filled = resolving.fill_template(template.get("job_configuration", {}), resolved)
        configuration = filled if isinstance(filled, dict) else {}
        resolving.raise_errors()
        prepare = _PREPARE.get(pool_type)
        if prepare is not None:
            try:
                prepare(configuration, masked)
            except _PrepareError as exc:
                raise ValidationError(ref, [(exc.path, exc.reason)]) from None
        return configuration

    configuration = one_pass(masked=False)
    return RenderedJob(
        pool_type=pool_type,
        configuration=configuration,
        pool=pool,
        queue=queue,
        shown=one_pass(masked=True),
    )


def merge_values(
    variables: Mapping[str, Any], values: Mapping[str, Any], *, ref: str = ""
) -> dict[str, Any]:
    """Defaults of ``variables`` overridden by ``values`` (``env`` merged), validated.

    Raises:
        ValidationError: an undeclared variable, or a value that breaks its schema.
    """
    properties: Mapping[str, Any] = variables.get("properties", {})
    unknown = [name for name in values if name not in properties]
    if unknown:
        known = ", ".join(sorted(properties)) or "none"
        message = f"not a job variable of this pool (known: {known})"
        raise ValidationError(
            ref, [(join_path("job_variables", name), message) for name in unknown]
        )
    merged = {
        name: copy.deepcopy(prop["default"])
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and "default" in prop
    }
    for name, value in values.items():
        current = merged.get(name)
        if name in MERGED_VARIABLES and isinstance(value, Mapping) and isinstance(current, dict):
            merged[name] = {**current, **copy.deepcopy(dict(value))}
        else:
            merged[name] = copy.deepcopy(value)
    errors = value_errors(variables, merged, prefix="job_variables")
    if errors:
        raise ValidationError(ref, errors)
    return merged


class _Unset:
    """Marks a template entry whose variable has no value: the entry is left out."""


_UNSET = _Unset()


class _PrepareError(Exception):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason


class _Resolving:
    """One rendering pass: resolves blocks (cached across passes) and collects errors.

    The masked pass substitutes each block's masked form, so it never sees a secret value.
    """

    def __init__(
        self,
        resolver: BlockResolver | None,
        ref: str,
        cache: dict[str, ResolvedBlock],
        *,
        masked: bool,
    ) -> None:
        self.resolver = resolver
        self.ref = ref
        self.masked = masked
        self.errors: list[tuple[str, str]] = []
        self._cache = cache

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationError(self.ref, self.errors)

    def block(self, placeholder: Placeholder, path: str) -> Any:
        ref = placeholder.block_ref
        if self.resolver is None:
            self.errors.append((path, f"{placeholder.text} needs a registry to resolve blocks"))
            return None
        if ref not in self._cache:
            try:
                self._cache[ref] = self.resolver(ref)
            except BlockNotFound:
                self.errors.append(
                    (path, f"{placeholder.text} names block {ref}, which does not exist")
                )
                return None
        resolved = self._cache[ref]
        value, shown = resolved.value, resolved.masked
        for depth, part in enumerate(placeholder.field_path):
            if not isinstance(value, Mapping) or part not in value:
                field_path = ".".join(placeholder.field_path[: depth + 1])
                self.errors.append((path, f"block {ref} has no field {field_path}"))
                return None
            value = value[part]
            # A path into a wholly secret value (a Secret holding an object) stays masked.
            shown = shown.get(part) if isinstance(shown, Mapping) else MASK
        return copy.deepcopy(shown if self.masked else value)

    def fill_value(self, value: Any, path: str) -> Any:
        """Resolve block placeholders inside a job-variable value (other text stays as is)."""
        if isinstance(value, str):
            placeholder = whole(value)
            if placeholder is not None and placeholder.kind == "block":
                return self.block(placeholder, path)
            return PLACEHOLDER_RE.sub(lambda m: self._text_of_block(m, path), value)
        if isinstance(value, dict):
            return {k: self.fill_value(v, join_path(path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill_value(v, join_path(path, i)) for i, v in enumerate(value)]
        return value

    def fill_template(self, node: Any, values: Mapping[str, Any], path: str = "") -> Any:
        """Fill variable and block placeholders of ``job_configuration``."""
        if isinstance(node, str):
            placeholder = whole(node)
            if placeholder is not None:
                return self._whole(placeholder, values, path or "job_configuration")
            return PLACEHOLDER_RE.sub(lambda m: self._text(m, values, path), node)
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, item in node.items():
                filled = self.fill_template(item, values, join_path(path, str(key)))
                if filled is not _UNSET:
                    out[key] = filled
            return _UNSET if node and not out else out
        if isinstance(node, list):
            items = [self.fill_template(v, values, join_path(path, i)) for i, v in enumerate(node)]
            kept = [v for v in items if v is not _UNSET]
            return _UNSET if node and not kept else kept
        return node

    def _whole(self, placeholder: Placeholder, values: Mapping[str, Any], path: str) -> Any:
        if placeholder.kind == "block":
            return self.block(placeholder, path)
        value = values.get(placeholder.expr)
        return _UNSET if value is None else copy.deepcopy(value)

    def _text(self, match: Any, values: Mapping[str, Any], path: str) -> str:
        text, expr = match.group(0), match.group(1)
        placeholder = whole(text)
        if placeholder is not None and placeholder.kind == "block":
            return _as_text(self.block(placeholder, path))
        return _as_text(values.get(expr))

    def _text_of_block(self, match: Any, path: str) -> str:
        placeholder = whole(match.group(0))
        if placeholder is None or placeholder.kind != "block":
            return str(match.group(0))
        return _as_text(self.block(placeholder, path))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _env_list(env: Any, key: str = "name") -> Any:
    # Values as workers want them: text as is, anything else (an object, a number) as JSON.
    if not isinstance(env, Mapping):
        return env
    return [{key: str(k), "value": _as_text(v)} for k, v in env.items() if v is not None]


def _args(command: Any, masked: bool, path: str) -> Any:
    if not isinstance(command, str):
        return command
    try:
        return shlex.split(command)
    except ValueError as exc:
        if masked:
            # The real command split (it was rendered first); its masked form need not.
            return [MASK]
        # shlex's reason ("No closing quotation") only: the command may hold a secret.
        raise _PrepareError(path, f"cannot split the command into arguments: {exc}") from None


def _prepare_kubernetes(configuration: dict[str, Any], masked: bool) -> None:
    manifest = configuration.get("job_manifest")
    pod_spec = _dig(manifest, "spec", "template", "spec")
    for index, container in enumerate((pod_spec or {}).get("containers", [])):
        if isinstance(container, dict):
            if "env" in container:
                container["env"] = _env_list(container["env"])
            if "args" in container:
                path = f"job_manifest.spec.template.spec.containers[{index}].args"
                container["args"] = _args(container["args"], masked, path)


def _prepare_ecs(configuration: dict[str, Any], masked: bool) -> None:
    task_definition = configuration.get("task_definition")
    if isinstance(task_definition, dict):
        for key in ("cpu", "memory"):
            if isinstance(task_definition.get(key), int):
                task_definition[key] = str(task_definition[key])
    request = configuration.get("task_run_request")
    if not isinstance(request, dict):
        return
    if isinstance(request.get("tags"), Mapping):
        request["tags"] = [{"key": str(k), "value": str(v)} for k, v in request["tags"].items()]
    overrides = _dig(request, "overrides") or {}
    for index, container in enumerate(overrides.get("containerOverrides", [])):
        if isinstance(container, dict):
            if "environment" in container:
                container["environment"] = _env_list(container["environment"])
            if "command" in container:
                path = f"task_run_request.overrides.containerOverrides[{index}].command"
                container["command"] = _args(container["command"], masked, path)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


_PREPARE: dict[str, Callable[[dict[str, Any], bool], None]] = {
    "kubernetes": _prepare_kubernetes,
    "ecs": _prepare_ecs,
}
