"""A database writer without the master key cannot rewrite the trail unnoticed: each of
insert, edit, delete, reorder and truncate-then-append is found by ``blocks audit verify``
and by ``blocks verify`` (issue 21: 5/5)."""

from __future__ import annotations

import pytest

from blocks import Registry, Secret
from tests.audit.helpers import problems
from tests.store.tamper import tamper


@pytest.fixture
def trail(registry: Registry) -> Registry:
    """A registry with six audit records (saves and reads) in its chain."""
    registry.audit.reads = True
    for i in range(3):
        Secret(value=f"pw-{i}").save("warehouse", registry=registry, overwrite=True)
        registry.load("secret/warehouse")
    audit, full = problems(registry)
    assert audit == [] and full == []
    registry.audit.flush()  # the read record of that verify too, before the writer tampers
    return registry


def _found(registry: Registry, *words: str) -> None:
    registry.audit.reads = False  # a record appended after an inserted one would collide
    audit, full = problems(registry)
    assert audit, "blocks audit verify found nothing"
    assert full, "blocks verify found nothing"
    text = " ".join(audit)
    assert all(w in text for w in words), audit


def test_an_inserted_record_is_found(trail: Registry) -> None:
    head = trail.audit.verify().head
    tamper(trail.store.url, "INSERT INTO event_log (seq, prev, kind, subject, at, actor, body, "
                            "mac_term, mac) SELECT seq + 1, prev, kind, subject, at, actor, "
                            "body, mac_term, mac FROM event_log WHERE seq = ?", head)
    _found(trail, f"event {head + 1}")


def test_an_edited_record_is_found(trail: Registry) -> None:
    tamper(trail.store.url, "UPDATE event_log SET actor = 'os:nobody@elsewhere' WHERE seq = 2")
    _found(trail, "event 2 does not authenticate")


def test_a_deleted_record_is_found(trail: Registry) -> None:
    tamper(trail.store.url, "DELETE FROM event_log WHERE seq = 3")
    _found(trail, "event 3 is missing")


def test_reordered_records_are_found(trail: Registry) -> None:
    url = trail.store.url
    tamper(url, "UPDATE event_log SET seq = 100 WHERE seq = 2")
    tamper(url, "UPDATE event_log SET seq = 2 WHERE seq = 3")
    tamper(url, "UPDATE event_log SET seq = 3 WHERE seq = 100")
    _found(trail, "does not authenticate")


def test_a_truncated_then_appended_trail_is_found(trail: Registry) -> None:
    """The writer cuts off the newest records; Blocks goes on appending after them."""
    tamper(trail.store.url, "DELETE FROM event_log WHERE seq > 3")
    Secret(value="pw-later").save("warehouse", registry=trail, overwrite=True)
    _found(trail, "event 4 is missing")


def test_a_truncated_tail_alone_is_found(trail: Registry) -> None:
    tamper(trail.store.url, "DELETE FROM event_log WHERE seq > 4")
    _found(trail, "its sealed head names event", "ends at event 4")
