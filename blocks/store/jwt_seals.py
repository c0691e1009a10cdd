"""Sealed machine-identity rows: the trusted JWT issuers and the roles (``0016``).

A ``jwt_config`` row's MAC covers its kind (``issuer`` or ``role``), its name and its canonical
JSON document (:func:`blocks.crypto.integrity.jwt_config_message`): a database writer without
the master key can neither add an issuer or a key to its JWKS, nor widen a role's bound claims
or policies. The rows have one sealed census (``access:jwt``, :mod:`blocks.store.census`) whose
members are the digests of the rows' messages, so an older sealed copy of a row put back (a
role before it was narrowed) is not a member and is refused too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from blocks.crypto import integrity
from blocks.store import census

JWT = "access:jwt"
"""The census of the ``jwt_config`` rows."""
KINDS = ("issuer", "role")
SELECT = "SELECT kind, name, document, updated_at, mac_term, mac FROM jwt_config"

Message = Callable[[int], bytes]


def message(kind: Any, name: Any, document: Any) -> Message:
    """What a row's MAC covers."""
    return lambda t: integrity.jwt_config_message(kind, name, document, t)


def member(kind: Any, name: Any, document: Any) -> int:
    """A row's member value in the ``access:jwt`` census."""
    text = integrity.access_member(integrity.jwt_config_message(kind, name, document, 0))
    return int.from_bytes(hashlib.sha256(text).digest(), "big")


def describe(kind: Any, name: Any) -> str:
    """A row named for people."""
    return f"JWT {kind if kind in KINDS else 'record'} {name!r}"


def recount_problem(stored: tuple[int, str] | None,
                    rows: Sequence[Sequence[Any]]) -> tuple[str, str] | None:
    """``(what, detail)`` when the rows do not match their sealed census (``blocks verify``)."""
    values = [member(r[0], r[1], r[2]) for r in rows]
    what = "the JWT issuers and roles"
    if stored is None:
        if values:
            return what, (f"have no sealed census, but {len(values)} row(s) exist (inserted "
                          "outside Blocks?)")
        return None
    if (len(values), census.digest(values)) != stored:
        return what, ("do not match their sealed census: a row was inserted, deleted or put "
                      "back from an older copy outside Blocks")
    return None
