"""A record's sealed bytes do not depend on which way they were written: the direct writers of
the server's hot path (the record's JSON, the actor's JSON, the event's timestamp as the MAC
covers it and as SQLite stores it) give exactly what the general ones give, so records written
by either still verify (issue 21)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from blocks.audit_actor import Actor
from blocks.store import audit_log, chain
from blocks.store.records import utc
from blocks.store.writer import Writer

_TEXTS = ["", "GET", "secret/warehouse", 'quote " and \\ back', "é ü 中文", "line\nbreak",
          "\u2028\u2029", "\x00\x1f", "emoji \U0001f512"]


def _values(rng: random.Random) -> list[object]:
    return [*_TEXTS, 0, -1, 200, 2**63, True, False, None, 1.5, [1, "a"], {"k": 1}]


def test_the_detail_json_is_the_general_json_for_every_kind_of_value() -> None:
    rng = random.Random(21)
    values = _values(rng)
    for _ in range(3000):
        detail = {rng.choice(_TEXTS): rng.choice(values) for _ in range(rng.randint(1, 4))}
        assert audit_log._detail_json(detail) == audit_log._json(detail), detail


def test_a_detail_with_keys_of_mixed_types_fails_as_the_general_json_does() -> None:
    with pytest.raises(TypeError):
        audit_log._json({"a": 1, 2: 3})
    with pytest.raises(TypeError):
        audit_log._detail_json({"a": 1, 2: 3})
    assert audit_log._detail_json({1: "a"}) == audit_log._json({1: "a"})


def test_the_actor_json_is_the_general_json_of_the_actor() -> None:
    rng = random.Random(7)
    optional = [None, *_TEXTS]
    for _ in range(2000):
        actor = Actor(rng.choice(_TEXTS), rng.choice(_TEXTS), rng.choice(optional),
                      rng.choice(_TEXTS), rng.choice(optional), rng.choice(optional))
        assert audit_log._actor_json(actor) == audit_log._json(actor.to_json()), actor


def test_the_record_body_is_the_canonical_json_of_its_fields() -> None:
    actor = Actor("token", "ci é", "hmac-sha256:ab", "server", "127.0.0.1", "req-1")
    pending = audit_log.Pending("read", "blocks", "secret/warehouse", actor,
                                datetime.now(UTC), 3, "current", None,
                                {"method": "GET", "status": 200})
    body = pending.body("denied", "Forbidden")
    assert body == audit_log._json({
        "action": "read", "actor": actor.to_json(), "detail": {"method": "GET", "status": 200},
        "error": "Forbidden", "outcome": "denied",
        "object": {"kind": "blocks", "name": "secret/warehouse", "pool": None,
                   "stage": "current", "version": 3},
    })


class _Dialect:
    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    stamp = Writer.stamp


def _moments(rng: random.Random) -> list[datetime]:
    fixed = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
             datetime(2026, 3, 29, 2, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),
             datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))]
    drawn = [datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                      rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                      rng.choice([0, rng.randint(0, 999_999)]), tzinfo=UTC)
             for _ in range(3000)]
    return fixed + drawn


def test_an_event_time_is_the_same_text_and_stored_value_either_way() -> None:
    sqlite, postgres = _Dialect(True), _Dialect(False)
    for moment in _moments(random.Random(3)):
        text = chain.at_text(moment)
        assert text == utc(moment).astimezone(UTC).isoformat(timespec="microseconds")
        general = moment.astimezone(UTC).replace(tzinfo=None).isoformat(
            sep=" ", timespec="microseconds")
        assert Writer.stamp(sqlite, moment) == general == f"{text[:10]} {text[11:26]}"  # type: ignore[arg-type]
        assert Writer.stamp(postgres, moment) == moment  # type: ignore[arg-type]


def test_records_appended_by_the_server_path_verify_and_read_back(blocks_home: Path) -> None:
    """The server's batch (on the event loop's connection) and a local record, in one chain:
    ``blocks audit verify`` finds no problem and the fields read back as written."""
    import asyncio

    from blocks import Registry, Secret, Settings
    from blocks.server import audit_requests

    registry = Registry(Settings(home=blocks_home))
    registry.init()
    Secret(value="pw").save("warehouse", registry=registry)
    batcher = audit_requests.install(registry)
    audit = audit_requests.RequestAudit("req-9", "10.0.0.7")
    actor = Actor("token", "ci", "tok-1", "server", "10.0.0.7", "req-9")

    async def record() -> None:
        trail = registry.audit
        for _ in range(2):  # the first may go to the writer thread (the hash key to read)
            await batcher.record(lambda: trail._pending_as(  # type: ignore[attr-defined]
                actor, "read", "blocks", "secret/warehouse", 1, None, None,
                {"method": "GET", "status": 200}), "allowed")

    try:
        assert audit.actor() is audit.actor()  # one actor per request and principal
        asyncio.run(record())
        assert batcher.batches == 2 and batcher.loop_batches >= 1
        report = registry.audit.verify()
        assert report.problems == []
        found = [e for e in registry.audit.ls() if e.actor.request_id == "req-9"]
        assert len(found) == 2
        entry = found[0]
        assert (entry.action, entry.obj, entry.version, entry.outcome) == (
            "read", "secret/warehouse", 1, "allowed")
        assert entry.actor.id is not None and entry.actor.id.startswith("hmac-sha256:")
        assert entry.actor.id != "tok-1"
        assert entry.detail == {"method": "GET", "status": 200}
    finally:
        batcher.close()
        registry.close()


def test_a_bytes_value_of_a_detail_is_stored_as_its_hmac_whatever_its_class(
        blocks_home: Path) -> None:
    """``detail`` holds names, never values: a ``bytes`` value (a subclass too) is recorded as
    its HMAC, and the bytes never reach the record."""
    from blocks import Registry, Settings

    class Token(bytes):
        pass

    registry = Registry(Settings(home=blocks_home))
    registry.init()
    try:
        trail = registry.audit
        for value in (b"s3cr3t-token-id", Token(b"s3cr3t-token-id")):
            pending = trail._pending_as(  # type: ignore[attr-defined]
                Actor("os", "me@h"), "read", "blocks", "secret/x", None, None, None,
                {"token": value})
            body = pending.body()
            assert "s3cr3t" not in body
            assert pending.detail == {"token": trail.hash(b"s3cr3t-token-id")}
    finally:
        registry.close()
