"""What every block resource shares: identity attributes, renames, reference checks, secrets.

Identity: ``id`` (``slug/name``) and ``placeholder`` (``{{ blocks.slug.name }}``) are known at
plan time only when the block exists already under that name. When it is being created or
renamed they are "known after apply", so a template or a reference that uses them waits for
the block (Terraform orders the apply by that dependency), and a *known* reference or
placeholder can be looked up in the registry at plan time: one that names no block is refused
before anything is written.

``name`` changes in place through ``Registry.rename``: the block keeps its id and history, and
blocks that reference it follow (references are stored by id).
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from typing import Any

from tf import types
from tf.schema import Attribute
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform.framework import is_known, report_exception

REFERENCED = (
    " Removing or replacing a block that other blocks reference converges in one apply (see "
    "[the referenced blocks guide](../guides/referenced-blocks.md)).")
"""What every block resource's description says about referenced blocks (``retire.py``)."""


def common_attributes(slug: str) -> list[Attribute]:
    """``id``, ``name``, ``version`` and ``placeholder``, shared by every block resource."""
    kind = f"blocks_{slug.replace('-', '_')}"
    return [
        Attribute("id", types.String(), computed=True,
                  description=f"`{slug}/<name>`: what nested-block fields of other resources "
                              "take, and what `terraform import` accepts. Known after apply "
                              "when the block is created or renamed."),
        Attribute("name", types.String(), required=True,
                  description="Block name: 1-63 lowercase letters, digits and dashes. "
                              "Changing it renames the block in place: same id and history, "
                              "and blocks that reference it follow."),
        Attribute("version", types.Number(), computed=True,
                  description="Current version of the block in the registry."),
        Attribute("placeholder", types.String(), computed=True,
                  description=f"`{{{{ blocks.{slug}.<name> }}}}`, for work-pool templates and "
                              f"job variables: using `{kind}.<label>.placeholder` (rather than "
                              "typing the text) makes Terraform create the block before the "
                              "pool. Append `.field` inside the braces for one field. Known "
                              "after apply when the block is created or renamed."),
    ]


def identity(slug: str, name: str) -> dict[str, Any]:
    """``id`` and ``placeholder`` of ``slug/name``."""
    return {"id": f"{slug}/{name}", "placeholder": f"{{{{ blocks.{slug}.{name} }}}}"}


def plan_identity(slug: Any, planned: dict[str, Any], prior: dict[str, Any] | None) -> None:
    """Known ``id``/``placeholder`` for an existing block keeping its name; else unknown."""
    name = planned.get("name")
    if isinstance(name, str) and prior is not None and is_known(slug) and name == prior.get(
            "name"):
        planned.update(identity(str(slug), name))
    else:
        planned.update(id=Unknown, placeholder=Unknown)


def rename(registry: Any, slug: str, current: dict[str, Any],
           planned: dict[str, Any]) -> dict[str, Any]:
    """Rename the block when ``name`` changed; returns ``current`` under the new name.

    Compare-and-set on the refreshed version, so a write made since the refresh is not
    silently renamed away from its author.
    """
    old, new = current["name"], planned["name"]
    if old == new:
        return current
    registry.rename(f"{slug}/{old}", new, expected_version=int(current["version"]))
    return {**current, "name": new, **identity(slug, new)}


def or_state(ctx: Any, fallback: dict[str, Any], step: Callable[[], Any]) -> Any:
    """Run ``step``; on error report it and return ``fallback`` (what is stored by then).

    After a rename succeeded, a failing write must leave state under the new name, or the next
    refresh would find the block gone.
    """
    try:
        result = step()
    except Exception as exc:
        report_exception(ctx.diagnostics, exc)
        return fallback
    return fallback if result is None else result


def unchanged(registry: Any, ref: str, block: Any) -> Any:
    """The stored block when ``block`` holds exactly its document, else ``None``.

    A reference that only changed because the referenced block was renamed stores the same
    document (references are by id): no new version is written for it.
    """
    from blocks import codec
    from blocks.errors import BlockNotFound

    try:
        stored = registry.load(ref)
    except BlockNotFound:
        return None
    same = type(stored) is type(block) and codec.to_display(
        stored, show_secrets=True) == codec.to_display(block, show_secrets=True)
    return stored if same else None


def check_name(diags: Diagnostics, name: Any, attribute: str = "name",
               what: str = "block name") -> None:
    """Report a block/pool name that breaks the naming rule (unknown names are skipped)."""
    if name is None or not is_known(name):
        return
    from blocks.core import validate_name
    from blocks.errors import InvalidName

    try:
        validate_name(name, what)
    except InvalidName as exc:
        diags.add_error(f"Invalid {attribute}", str(exc), path=[attribute])


def check_exists(diags: Diagnostics, registry: Any, ref: str, path: list[Any],
                 what: str) -> None:
    """Report a reference to a block that is not in the registry (at plan time)."""
    from blocks.errors import BlockNotFound, InvalidName, UnknownBlockType

    try:
        registry.summary(ref)
    except BlockNotFound:
        slug = ref.split("/", 1)[0]
        diags.add_error(
            f"No block {ref}",
            f"{what} names {ref}, which is not in the registry. Declare it in this "
            f"configuration (a blocks_{slug.replace('-', '_')} resource) and use its "
            "attribute instead of the literal text, so Terraform creates it first; or "
            "create it with the blocks CLI; or fix the name.",
            path=path,
        )
    except (InvalidName, UnknownBlockType) as exc:
        diags.add_error(f"Invalid reference {ref}", str(exc), path=path)


def decode_bytes(value: str) -> bytes:
    """A bytes field's value from configuration: PEM text as is, anything else as base64."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    return base64.b64decode(value, validate=True)


def same_secret(in_state: Any, stored: Any, as_bytes: bool = False) -> bool:
    """Constant-time comparison of a secret in state with the stored one."""
    if in_state is None or stored is None:
        return in_state is stored
    if as_bytes and isinstance(in_state, str) and isinstance(stored, str):
        try:
            return hmac.compare_digest(decode_bytes(in_state).strip(),
                                       decode_bytes(stored).strip())
        except ValueError:
            return False
    a = in_state if isinstance(in_state, str) else json.dumps(in_state, sort_keys=True)
    b = stored if isinstance(stored, str) else json.dumps(stored, sort_keys=True)
    return hmac.compare_digest(a.encode(), b.encode())
