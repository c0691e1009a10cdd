"""Who is acting: the identity an audit record names (``blocks audit``).

A low layer (the registry and the store read it; nothing here imports them). The actor is a
context variable: ``blocks server`` sets it per request (the token's name and id, or the JWT
identity, with the client's address and the request id), the CLI marks its calls ``via="cli"``,
the Terraform provider ``via="terraform"``, rotation ``via="rotation"``; otherwise it is the OS
user on this host, ``via="python"``.

Example:
    >>> from blocks.audit_actor import Actor, acting_as, current_actor
    >>> with acting_as(Actor("token", "ci-reader", "tok-1", "server", "10.0.0.7", "req-9")):
    ...     current_actor().name
    'ci-reader'
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

KINDS = ("token", "jwt", "os", "anonymous")
VIAS = ("server", "cli", "python", "terraform", "rotation", "ui")


@dataclass(frozen=True)
class Actor:
    """An identity as the audit trail records it (never a token or a password).

    Attributes:
        kind: ``token``, ``jwt``, ``os`` or ``anonymous``.
        name: the token's name, the JWT's subject, or ``user@host``.
        id: the token's id (or the JWT's issuer-qualified subject); ``None`` for an OS user.
        via: ``server``, ``cli``, ``python``, ``terraform``, ``rotation`` or ``ui``.
        source: the client's address (server) or this host's name (local).
        request_id: the server's request id, when there is one.
    """

    kind: str
    name: str
    id: str | None = None
    via: str = "python"
    source: str | None = None
    request_id: str | None = None

    def label(self) -> str:
        """``kind:name`` (what the event log's ``actor`` column holds, at most 200 chars)."""
        return f"{self.kind}:{self.name}"[:200]

    def to_json(self) -> dict[str, Any]:
        """The actor as the audit record's body holds it."""
        return {"kind": self.kind, "name": self.name, "id": self.id, "via": self.via,
                "source": self.source, "request_id": self.request_id}

    @classmethod
    def from_json(cls, data: Any) -> Actor:
        """The actor of a stored record (missing fields read as ``None``)."""
        data = data if isinstance(data, dict) else {}
        return cls(str(data.get("kind") or "anonymous"), str(data.get("name") or ""),
                   _opt(data.get("id")), str(data.get("via") or ""), _opt(data.get("source")),
                   _opt(data.get("request_id")))


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@lru_cache(maxsize=1)
def _os_identity() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without /etc/passwd)
        user = "unknown"
    return user, socket.gethostname()


def os_actor(via: str = "python") -> Actor:
    """The OS user on this host (``user@host``), acting ``via``."""
    user, host = _os_identity()
    return Actor("os", f"{user}@{host}", None, via, host, None)


_actor: ContextVar[Actor | None] = ContextVar("blocks_audit_actor", default=None)
_default_via = "python"


def current_actor() -> Actor:
    """The actor of the current context (default: the OS user on this host, acting ``via``
    the process's entry point: ``python`` unless :func:`set_via` said otherwise)."""
    found = _actor.get()
    return found if found is not None else os_actor(_default_via)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Make ``actor`` the current actor inside the ``with`` block (per thread and task)."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


@contextmanager
def acting_via(via: str) -> Iterator[Actor]:
    """The current actor, marked as acting ``via`` (the CLI, Terraform, rotation)."""
    with acting_as(replace(current_actor(), via=via)) as actor:
        yield actor


def set_via(via: str) -> str:
    """Mark this process as acting ``via`` (an entry point: the CLI, the Terraform provider),
    in every thread, unless a context says otherwise (:func:`acting_as`). Returns the previous
    value, so an entry point called inside another program (``blocks.cli.main``) can put it
    back."""
    global _default_via
    previous, _default_via = _default_via, via
    return previous
