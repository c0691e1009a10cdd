"""What the integrity MACs bind: sealed block heads, pool documents, queues. Hazardous: low-level.

Each function returns the exact bytes a record's HMAC (see :meth:`Keyring.sign`) covers: a JSON
array that starts with a purpose tag and holds every field the record is bound to, so that no
choice of names, ids or documents makes two messages of different records equal, and a tag
made for one kind of record never verifies as another.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _quote

HEAD = "blocks/head/v1"
POOL_HEAD = "blocks/pool-head/v1"
POOL_VERSION = "blocks/pool-version/v1"
QUEUE = "blocks/queue/v1"


def _s(value: object) -> str:
    return _quote(value) if type(value) is str else "null"


def _int(value: object) -> str:
    # bool is an int subclass; a stored value of the wrong type must never format as a number
    if type(value) is not int:
        return "null"
    return str(value)


def head_message(
    block_id: str, type_slug: str, name: str, current: int, latest: int, stages: str, term: int
) -> bytes:
    """A block head: its id, type, name, current and latest version, stages (canonical JSON)."""
    if (type(block_id) is str and type(type_slug) is str and type(name) is str
            and type(stages) is str and type(current) is int and type(latest) is int
            and type(term) is int):  # the common case, on every load: no per-field checks
        return (
            f'["{HEAD}",{_quote(block_id)},{_quote(type_slug)},{_quote(name)},{current},'
            f"{latest},{_quote(stages)},{term}]"
        ).encode()
    return (
        f"[{_s(HEAD)},{_s(block_id)},{_s(type_slug)},{_s(name)},"
        f"{_int(current)},{_int(latest)},{_s(stages)},{_int(term)}]"
    ).encode()


def pool_head_message(pool_id: str, name: str, pool_type: str, current: int, term: int) -> bytes:
    """A work pool's head: id, name, type and current version."""
    return (
        f"[{_s(POOL_HEAD)},{_s(pool_id)},{_s(name)},{_s(pool_type)},"
        f"{_int(current)},{_int(term)}]"
    ).encode()


def pool_version_message(
    pool_id: str, name: str, pool_type: str, version: int, document: str, term: int
) -> bytes:
    """One version of a pool: bound to the pool's id, name, type and version number."""
    return (
        f"[{_s(POOL_VERSION)},{_s(pool_id)},{_s(name)},{_s(pool_type)},"
        f"{_int(version)},{_s(document)},{_int(term)}]"
    ).encode()


def queue_message(
    queue_id: str, pool_id: str, name: str, version: int, settings: str, term: int
) -> bytes:
    """A queue: its id, pool id, name, version and settings (canonical JSON)."""
    return (
        f"[{_s(QUEUE)},{_s(queue_id)},{_s(pool_id)},{_s(name)},"
        f"{_int(version)},{_s(settings)},{_int(term)}]"
    ).encode()


REF = "blocks/ref/v1"
MIRROR = "blocks/mirror/v1"
CENSUS = "blocks/census/v1"


def ref_message(block_id: str, path: str, ref_block_id: str, term: int) -> bytes:
    """A reference row: the referencing block's id, the field path, the referenced id."""
    return f"[{_s(REF)},{_s(block_id)},{_s(path)},{_s(ref_block_id)},{_int(term)}]".encode()


def mirror_message(block_id: str, target: str, target_name: str, term: int) -> bytes:
    """A mirror row: which block is copied to which target, under which name there."""
    return (
        f"[{_s(MIRROR)},{_s(block_id)},{_s(target)},{_s(target_name)},{_int(term)}]"
    ).encode()


def census_message(name: str, count: int, digest: str, term: int) -> bytes:
    """A census row: how many records of a set exist and the digest of their identities."""
    return f"[{_s(CENSUS)},{_s(name)},{_int(count)},{_s(digest)},{_int(term)}]".encode()
