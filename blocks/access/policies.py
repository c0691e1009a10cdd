"""Access policy documents: capabilities on glob patterns of block and pool names.

A policy is a JSON object::

    {"blocks": {"secret/app-*": ["read"]}, "pools": {"etl": ["read-metadata"]},
     "admin": false, "description": "what it is for"}

``blocks`` patterns match ``type-slug/name`` and must contain exactly one ``/``; ``pools``
patterns match pool names and contain none. In a pattern ``*`` matches any run of characters
except ``/`` and ``?`` one character except ``/``; every other character matches itself.
``admin: true`` grants everything, including the ``admin`` objects (tokens, policies,
``verify``, ``keys status``). Unknown keys and capabilities are errors naming the JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blocks.crypto.integrity import canonical_json
from blocks.errors import ValidationError

CAPABILITIES = ("read", "read-metadata", "write", "delete", "rotate", "admin")
"""Every capability; ``read`` implies ``read-metadata``, ``admin`` implies all."""
KINDS = ("blocks", "pools")
_KEYS = ("blocks", "pools", "admin", "description")
_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9*?_.-]+(?:/[A-Za-z0-9*?_.-]+)?$")
MAX_PATTERNS = 1000


def implied(capability: str) -> frozenset[str]:
    """The capabilities that holding ``capability`` grants."""
    if capability == "admin":
        return frozenset(CAPABILITIES)
    if capability == "read":
        return frozenset(("read", "read-metadata"))
    return frozenset((capability,))


def _regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
    return re.compile("^" + "".join(parts) + "$")


@dataclass(frozen=True)
class Rule:
    """Capabilities granted on the names one pattern matches."""

    kind: str
    pattern: str
    capabilities: frozenset[str]
    regex: re.Pattern[str]

    def matches(self, obj: str) -> bool:
        """True if ``obj`` (``slug/name`` or a pool name) matches the pattern."""
        return self.regex.match(obj) is not None


@dataclass(frozen=True)
class Policy:
    """A validated policy document."""

    name: str
    document: Mapping[str, Any]
    rules: tuple[Rule, ...]
    admin: bool

    def canonical(self) -> str:
        """The document as stored (canonical JSON)."""
        return canonical_json(dict(self.document)).decode()


def _fail(name: str, path: str, message: str) -> ValidationError:
    return ValidationError(f"policy {name}", [(path, message)])


def parse(name: str, document: Any) -> Policy:
    """Validate a policy document (a parsed JSON value).

    Raises:
        ValidationError: naming the JSON path (``$.blocks["secret/*"][0]``) and the fix.
    """
    if not isinstance(document, Mapping):
        raise _fail(name, "$", "a policy must be a JSON object such as "
                               '{"blocks": {"secret/app-*": ["read"]}}')
    errors: list[tuple[str, str]] = []
    for key in document:
        if key not in _KEYS:
            errors.append((f"$.{key}" if isinstance(key, str) else "$",
                           f"unknown key; a policy has only {', '.join(_KEYS)}"))
    admin = document.get("admin", False)
    if type(admin) is not bool:
        errors.append(("$.admin", "must be true or false"))
    description = document.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        errors.append(("$.description", "must be a string of at most 500 characters"))
    rules: list[Rule] = []
    for kind in KINDS:
        section = document.get(kind, {})
        if not isinstance(section, Mapping):
            errors.append((f"$.{kind}", 'must be an object of pattern to capabilities, e.g. '
                                        '{"secret/app-*": ["read"]}' if kind == "blocks" else
                           'must be an object of pattern to capabilities, e.g. '
                           '{"etl-*": ["read-metadata"]}'))
            continue
        if len(section) > MAX_PATTERNS:
            errors.append((f"$.{kind}", f"at most {MAX_PATTERNS} patterns"))
            continue
        for pattern, caps in section.items():
            path = f"$.{kind}[{json.dumps(pattern)}]"
            problem = _pattern_problem(kind, pattern)
            if problem:
                errors.append((path, problem))
            if not isinstance(caps, list) or not caps:
                errors.append((path, "must be a non-empty list of capabilities: "
                                     + ", ".join(CAPABILITIES)))
                continue
            granted: set[str] = set()
            for i, cap in enumerate(caps):
                if cap not in CAPABILITIES:
                    shown = repr(cap[:40]) if isinstance(cap, str) else "this value"
                    errors.append((f"{path}[{i}]", f"{shown} is not a capability; use one of "
                                                   + ", ".join(CAPABILITIES)))
                else:
                    granted |= implied(cap)
            if not problem:
                rules.append(Rule(kind, pattern, frozenset(granted), _regex(pattern)))
    if errors:
        raise ValidationError(f"policy {name}", errors)
    clean = {k: document[k] for k in _KEYS if k in document}
    return Policy(name, clean, tuple(rules), admin is True)


def _pattern_problem(kind: str, pattern: Any) -> str | None:
    if not isinstance(pattern, str) or not pattern or len(pattern) > 127:
        return "a pattern must be a non-empty string of at most 127 characters"
    if not _PATTERN_CHARS.match(pattern):
        return ("use letters, digits, '-', '_', '.', '*' (any characters but '/') and '?'"
                + (" with one '/' between type and name, e.g. 'secret/app-*' or '*/*'"
                   if kind == "blocks" else ", no '/'"))
    slashes = pattern.count("/")
    if kind == "blocks" and slashes != 1:
        return ("a blocks pattern is 'type-slug/name' with exactly one '/', e.g. "
                "'secret/app-*' (or '*/*' for every block): '*' does not match '/'")
    if kind == "pools" and slashes:
        return "a pools pattern is a pool name pattern without '/', e.g. 'etl-*'"
    return None


def loads(name: str, text: str) -> Policy:
    """Parse and validate a policy from JSON text (bounded like every untrusted JSON).

    Raises:
        ValidationError: the text is not JSON, or the document does not validate.
    """
    from blocks.codec import parse_json

    return parse(name, parse_json(text, f"policy {name}", source="the policy"))
