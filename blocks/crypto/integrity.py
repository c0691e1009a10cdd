"""What the integrity MACs bind: heads, pools, queues, rotation policies, the event chain.

Hazardous: low-level.

Each function returns the exact bytes a record's HMAC (see :meth:`Keyring.sign`) covers: a JSON
array that starts with a purpose tag and holds every field the record is bound to, so that no
choice of names, ids or documents makes two messages of different records equal, and a tag
made for one kind of record never verifies as another.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

HEAD = "blocks/head/v1"
POOL_HEAD = "blocks/pool-head/v1"
POOL_VERSION = "blocks/pool-version/v1"
QUEUE = "blocks/queue/v1"


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8, no NaN (what a
    sealed document's MAC covers; ``blocks.codec`` writes stored documents the same way)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


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


# -- rotation policies and the event chain (0011_seal_rotation) --------------------------------
#
# A rotation policy row is MACed like a head: every column that decides what a rotation does
# (the policy JSON with the rotator's options and schedule, the due times, the run in flight
# with its rotator state, the revocation schedule) and ``event_seq``, the sequence number of
# the block's newest event in the chain when the row was sealed (a row put back from an older
# copy then names an event that is no longer the block's newest).
#
# The event chain is one append-only list for the whole registry (rotation events now; the
# audit trail of later kinds extends it). Event ``seq`` (1, 2, 3, ...) holds
#     content = ["blocks/event/v1", seq, prev, kind, subject, at, actor, body]
# where ``prev`` is the SHA-256 (hex) of the previous event's content ("" for the first),
# ``kind`` names the body's schema (``rotation``), ``subject`` the record it concerns (a block
# id), ``at`` an ISO 8601 UTC timestamp with microseconds and ``body`` canonical JSON. Its MAC
# covers ["blocks/event-mac/v1", sha256(content) hex, term]: a hash link, not a MAC link, so
# ``keys rewrap`` can move each MAC to a new term without touching the links. The chain head
# (one row per chain ``name``) MACs ["blocks/event-chain/v1", name, seq, digest, term]: the
# newest event's number and content digest, so a truncated tail does not verify. Deleting,
# editing, reordering or inserting an event breaks a link, a MAC or the head.

POLICY = "blocks/rotation-policy/v1"
EVENT = "blocks/event/v1"
EVENT_MAC = "blocks/event-mac/v1"
CHAIN = "blocks/event-chain/v1"


def policy_message(
    block_id: str, policy: str, next_due_at: str | None, last_rotated_at: str | None,
    run: str | None, revoke_version: int | None, revoke_due_at: str | None,
    revoke_state: str | None, event_seq: int, term: int,
) -> bytes:
    """A rotation policy row: policy JSON, schedule, run, revocation, newest event number."""
    return (
        f"[{_s(POLICY)},{_s(block_id)},{_s(policy)},{_s(next_due_at)},{_s(last_rotated_at)},"
        f"{_s(run)},{_int(revoke_version)},{_s(revoke_due_at)},{_s(revoke_state)},"
        f"{_int(event_seq)},{_int(term)}]"
    ).encode()


def event_content(
    seq: int, prev: str, kind: str, subject: str, at: str, actor: str, body: str
) -> bytes:
    """One event of the chain, as its digest and MAC cover it."""
    return (
        f"[{_s(EVENT)},{_int(seq)},{_s(prev)},{_s(kind)},{_s(subject)},{_s(at)},{_s(actor)},"
        f"{_s(body)}]"
    ).encode()


def event_message(digest: str, term: int) -> bytes:
    """What an event's MAC covers: the SHA-256 hex digest of its content."""
    return f"[{_s(EVENT_MAC)},{_s(digest)},{_int(term)}]".encode()


def chain_message(name: str, seq: int, digest: str, term: int) -> bytes:
    """A chain head: the newest event's number and content digest."""
    return f"[{_s(CHAIN)},{_s(name)},{_int(seq)},{_s(digest)},{_int(term)}]".encode()


# -- references, mirrors and censuses (0012_seal_refs_mirrors) ------------------------------

REF = "blocks/ref/v1"
MIRROR = "blocks/mirror/v1"
CENSUS = "blocks/census/v1"
DELETION = "blocks/deletion/v1"


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


# -- API tokens and access policies (0013_tokens_policies) ------------------------------------
#
# A token row binds its id, name, the SHA-256 of the token, its owner, the sorted JSON list of
# its policy names, when it was created, when it expires and when it was revoked (each an ISO
# 8601 UTC timestamp, or null). Its last use is not bound: it decides nothing. A policy row
# binds its name and its canonical JSON document. Each set (all tokens, all policies) also has
# a sealed census (``access:tokens``, ``access:policies``) whose members are the SHA-256 of
# each row's message under term 0, so an older copy of a row put back is not a member.

TOKEN = "blocks/api-token/v1"  # noqa: S105 - a purpose tag, not a secret
ACCESS_POLICY = "blocks/access-policy/v1"
ACCESS_MEMBER = "blocks/access-member/v1"


def token_message(
    token_id: str, name: str, token_hash: str, owner: str, policies: str, created_at: str | None,
    expires_at: str | None, revoked_at: str | None, term: int,
) -> bytes:
    """An API token row: everything that decides whether and as what a token authenticates."""
    return (
        f"[{_s(TOKEN)},{_s(token_id)},{_s(name)},{_s(token_hash)},{_s(owner)},{_s(policies)},"
        f"{_s(created_at)},{_s(expires_at)},{_s(revoked_at)},{_int(term)}]"
    ).encode()


def access_policy_message(name: str, document: str, term: int) -> bytes:
    """An access policy row: its name and canonical JSON document."""
    return f"[{_s(ACCESS_POLICY)},{_s(name)},{_s(document)},{_int(term)}]".encode()


def access_member(message: bytes) -> bytes:
    """What a token's or policy's census member hashes: its message under term 0, tagged."""
    return f"[{_s(ACCESS_MEMBER)},".encode() + message + b"]"


# -- machine identities (0016_machine_identities) ----------------------------------------------
#
# A ``jwt_config`` row binds its kind (``issuer`` or ``role``), its name and its canonical JSON
# document (which issuer, which keys, which audiences and algorithms; which claims a role binds
# and which policies it grants). The rows have one sealed census (``access:jwt``) whose members
# are the SHA-256 of each row's message under term 0, tagged like the token and policy members.
# A Blocks token exchanged for a JWT (``blj_...``) carries its payload and a MAC over it.

JWT_CONFIG = "blocks/jwt-config/v1"
JWT_SESSION = "blocks/jwt-session/v1"


def jwt_config_message(kind: str, name: str, document: str, term: int) -> bytes:
    """A machine-identity row: an issuer or a role, its name and canonical JSON document."""
    return f"[{_s(JWT_CONFIG)},{_s(kind)},{_s(name)},{_s(document)},{_int(term)}]".encode()


def jwt_session_message(payload: str, term: int) -> bytes:
    """A Blocks token exchanged for a JWT: its payload (base64url of canonical JSON)."""
    return f"[{_s(JWT_SESSION)},{_s(payload)},{_int(term)}]".encode()


def deletion_message(
    block_id: str, type_slug: str, name: str, deleted_at: str | None, shred_after: str | None,
    term: int,
) -> bytes:
    """A scheduled deletion: which block, under which name, deleted when, shredded after when
    (timestamps as ISO 8601 UTC text with microseconds)."""
    return (
        f"[{_s(DELETION)},{_s(block_id)},{_s(type_slug)},{_s(name)},{_s(deleted_at)},"
        f"{_s(shred_after)},{_int(term)}]"
    ).encode()
