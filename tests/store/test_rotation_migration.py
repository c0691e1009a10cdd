"""Upgrading a 0010 database to 0011_seal_rotation: rotation rows are sealed once, on first open."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from blocks import Registry, Secret, Settings
from blocks.errors import IntegrityError
from blocks.rotation import Rotation, RotationPolicy, rotation_events, set_rotation
from blocks.store.migrate import downgrade
from blocks.store.migrations import HEAD_REVISION
from blocks.verify import verify
from tests.rotation.contract import Crash, crash_at
from tests.store.tamper import tamper

POLICY = RotationPolicy(rotator="generated", interval="30d", grace="0s")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_0010_database_is_sealed_on_first_open(
    backend: str, blocks_home: Path, request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(home=blocks_home)
    if backend == "postgres":
        settings = Settings(home=blocks_home, database_url=request.getfixturevalue("pg_url"))
    old = Registry(settings)
    for name in ("done", "midway"):
        Secret(value=f"first-{name}-0123456789").save(name, registry=old)
        set_rotation(f"secret/{name}", POLICY, registry=old)
    assert Rotation(old).rotate("secret/done", force=True).status == "rotated"
    with pytest.raises(Crash):
        Rotation(old, hook=crash_at("create", "recorded")).rotate("secret/midway", force=True)
    steps = [(e.step, e.outcome) for e in rotation_events("secret/done", registry=old)]
    downgrade(old.store.engine, "0010_block_mirrors")  # the database as 0010 left it
    old.close()

    with caplog.at_level(logging.WARNING, logger="blocks"):
        new = Registry(settings)
        assert [(e.step, e.outcome) for e in
                rotation_events("secret/done", registry=new)] == steps
    assert "sealed 2 rotation policies and" in caplog.text
    assert new.store.schema_revision() == HEAD_REVISION
    assert verify(new).ok, verify(new).problems
    assert Rotation(new).promoted_versions("secret/done") == {2}
    outcome = Rotation(new).rotate("secret/midway")  # the run in flight resumes
    assert outcome.status == "rotated", outcome.error
    assert new.load("secret/midway").block_version == 2
    new.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="blocks"):
        again = Registry(settings)
        assert again.load("secret/done").block_version == 2
        Rotation(again).policy("secret/done")
    assert "sealed" not in caplog.text  # once only
    # Sealed: from now on a rotation row without its MAC is an integrity error.
    tamper(settings.resolved_database_url, "UPDATE rotation_policy SET mac = NULL")
    with pytest.raises(IntegrityError, match="rotation policy of secret/done"):
        Rotation(again).policy("secret/done")
    again.close()
