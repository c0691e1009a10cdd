"""The base job template a Prefect server accepts: only Prefect placeholders left in it.

* ``{{ blocks.<slug>.<name>.<field> }}`` of a non-secret field is resolved at publish (the
  value is written into the published template);
* a placeholder that would put a secret into the template is refused: Prefect stores templates
  in clear and shows them to anyone who can read the pool. Secrets stay in Blocks: load the block
  in the flow (``X.load(name)``), or mirror it (``blocks mirror SLUG/NAME --to prefect``) and use
  ``{{ prefect.blocks.<slug>.<name> }}``, which Prefect's worker resolves at run time;
* Prefect's own placeholders and block references (``{{ prefect.blocks.… }}``,
  ``{{ prefect.variables.… }}``, ``{"$ref": {"block_document_id": …}}``) and job variables
  pass through untouched, with the types Prefect gave them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blocks.pools.placeholders import PLACEHOLDER_RE, join_path, whole
from blocks.pools.render import ResolvedBlock, _Resolving
from blocks.pools.resolve import registry_resolver

if TYPE_CHECKING:
    from blocks.pools.placeholders import Placeholder
    from blocks.registry import Registry

REFUSAL = (
    "{text} would publish a secret: Prefect keeps job templates in clear. Keep it in Blocks "
    "and load it in the flow ({cls}.load('{name}')), or mirror the block to Prefect "
    "('blocks mirror {ref} --to prefect') and write {{{{ prefect.blocks.{slug}.{name}{field} }}}}"
)


def to_prefect_template(
    template: Mapping[str, Any], registry: Registry, *, ref: str
) -> dict[str, Any]:
    """``template`` with every Blocks placeholder of a non-secret value resolved.

    Args:
        template: a pool's base job template.
        registry: where the blocks are loaded from.
        ref: what errors name (``work-pool/etl``).

    Raises:
        ValidationError: a placeholder names a secret, a missing block or a missing field
            (every problem with its path).
    """
    resolver = registry_resolver(registry)
    cache: dict[str, ResolvedBlock] = {}
    passes = _Passes(_Resolving(resolver, ref, cache, masked=False),
                     _Resolving(resolver, ref, cache, masked=True))
    out = _fill(dict(template), passes, "")
    passes.value.raise_errors()
    assert isinstance(out, dict)
    return out


@dataclass
class _Passes:
    """The clear pass (what is published) and the masked pass (where secrets would be)."""

    value: _Resolving
    shown: _Resolving


def _fill(node: Any, resolving: _Passes, path: str) -> Any:
    if isinstance(node, str):
        placeholder = whole(node)
        if placeholder is not None and placeholder.kind == "block":
            return _value(placeholder, resolving, path)
        return PLACEHOLDER_RE.sub(lambda m: _text(m.group(0), resolving, path), node)
    if isinstance(node, dict):
        return {k: _fill(v, resolving, join_path(path, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, resolving, join_path(path, i)) for i, v in enumerate(node)]
    return node


def _text(text: str, resolving: _Passes, path: str) -> str:
    placeholder = whole(text)
    if placeholder is None or placeholder.kind != "block":
        return text
    value = _value(placeholder, resolving, path)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _value(placeholder: Placeholder, resolving: _Passes, path: str) -> Any:
    where = path or "base_job_template"
    value = resolving.value.block(placeholder, where)
    if value is None:
        return None
    # The masked pass substitutes each secret's mask: where it differs, a secret is inside.
    if resolving.shown.block(placeholder, where) != value:
        slug, name = placeholder.block_ref.split("/")
        field = "".join(f".{p}" for p in placeholder.field_path)
        resolving.value.errors.append((path, REFUSAL.format(
            text=placeholder.text, cls=_class_name(slug), name=name, ref=placeholder.block_ref,
            slug=slug, field=field,
        )))
        return None
    return value


def _class_name(slug: str) -> str:
    from blocks import catalog
    from blocks.errors import UnknownBlockType

    try:
        return catalog.get(slug).__name__
    except UnknownBlockType:
        return "Block"

