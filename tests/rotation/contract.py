"""The one contract every rotator passes (as ``tests/keys/contract.py`` is for key providers).

A rotator's test module subclasses :class:`RotatorContract` and supplies:

* ``rotation_registry``: the registry the block lives in (local, or a server's through HTTP);
* ``engine_registry`` (optional): the registry where the engine runs, for the tests that
  kill it mid-step or read its tables: ``rotation_registry`` itself, or the server's own when
  ``rotation_registry`` is remote (the server "dies" mid-step; the client resumes or cancels);
* ``rotated``: ``(ref, policy)``, a saved block whose current credential works upstream, and
  the policy that rotates it (set by the contract);
* ``accepts``: ``accepts(block) -> bool``, whether the upstream system accepts the block's
  credential right now (for ``generated``, whether it is the value the block stores);
* class attributes ``previous_works_in_grace`` (the previous credential keeps working until
  revoke), ``cancel_restores_upstream`` (after cancel upstream accepts current, not pending)
  and ``current_works_while_pending`` (false for single-user passwords: between set and
  promotion only the pending one works).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text

from blocks import Registry
from blocks.codec import secret_values
from blocks.core import Block
from blocks.errors import BlockNotFound, RotationError
from blocks.rotation import Rotation, RotationPolicy, Rotator, rotation_events, set_rotation
from blocks.rotation.plugins import get, names

Accepts = Callable[[Block], bool]
STEPS = ("create", "set", "test", "promote")


class Crash(BaseException):
    """Stands for the process dying: not an ``Exception``, so the engine does not record it."""


def crash_at(step: str, moment: str) -> Callable[[str, str], None]:
    def hook(s: str, m: str) -> None:
        if (s, m) == (step, moment):
            raise Crash(f"{s}/{m}")
    return hook


def all_secrets(registry: Registry, ref: str) -> set[str]:
    out: set[str] = set()
    for v in registry.history(ref):
        if not v.shredded:
            out |= {s for s in secret_values(registry.load(ref, version=v.version)) if len(s) >= 6}
    return out


def stored_rotation_text(registry: Registry) -> str:
    with registry.store.engine.connect() as conn:
        rows = list(conn.execute(text("SELECT * FROM rotation_policy")))
        rows += list(conn.execute(text("SELECT * FROM event_log")))
    return json.dumps([[str(c) for c in r] for r in rows])


class RotatorContract:
    """Shared behaviour of every rotator."""

    previous_works_in_grace = True
    cancel_restores_upstream = True
    current_works_while_pending = True

    @pytest.fixture
    def rotation_registry(self) -> Registry:
        raise NotImplementedError

    @pytest.fixture
    def engine_registry(self, rotation_registry: Registry) -> Registry:
        return rotation_registry

    @pytest.fixture
    def rotated(self) -> tuple[str, RotationPolicy]:
        raise NotImplementedError

    @pytest.fixture
    def accepts(self) -> Accepts:
        raise NotImplementedError

    @pytest.fixture
    def ready(self, rotation_registry: Registry, rotated: tuple[str, RotationPolicy]) -> str:
        ref, policy = rotated
        set_rotation(ref, policy, registry=rotation_registry)
        return ref

    def test_is_a_registered_rotator(self, rotated: tuple[str, RotationPolicy]) -> None:
        rotator = get(rotated[1].rotator)
        assert isinstance(rotator, Rotator)
        assert rotator.name in names()

    def test_rotation_promotes_a_working_credential(
        self, rotation_registry: Registry, ready: str, accepts: Accepts
    ) -> None:
        before = rotation_registry.load(ready)
        assert accepts(before)
        outcome = rotation_registry.rotation().rotate(ready, force=True)
        assert outcome.status == "rotated", outcome.error
        after = rotation_registry.load(ready)
        assert secret_values(after) != secret_values(before)
        assert accepts(after)
        stages = rotation_registry.stages(ready)
        assert stages["current"] == after.block_version
        assert stages["previous"] == before.block_version
        assert "pending" not in stages
        previous = rotation_registry.load(ready, stage="previous")
        assert previous.block_version == before.block_version
        assert accepts(previous) is self.previous_works_in_grace

    def test_revoke_after_grace_and_at_next_rotation(
        self, rotation_registry: Registry, ready: str, accepts: Accepts
    ) -> None:
        rot = rotation_registry.rotation()
        first = rotation_registry.load(ready)
        assert rot.rotate(ready, force=True).status == "rotated"
        second = rotation_registry.load(ready)
        assert rot.rotate(ready, force=True).status == "rotated"  # revokes `first` first
        third = rotation_registry.load(ready)
        assert not accepts(first) or not self._has_upstream(first)
        assert accepts(third)
        assert rotation_registry.load(ready, stage="previous").block_version == (
            second.block_version
        )
        steps = [(e.step, e.outcome) for e in rotation_events(ready, registry=rotation_registry)]
        assert steps.count(("promote", "ok")) == 2
        assert ("revoke", "ok") in steps

    def _has_upstream(self, block: Block) -> bool:
        return True

    @pytest.mark.parametrize("step", STEPS)
    @pytest.mark.parametrize("moment", ["upstream", "recorded"])
    def test_interrupted_rotation_is_resumed_once(
        self, rotation_registry: Registry, engine_registry: Registry, ready: str,
        accepts: Accepts, step: str, moment: str
    ) -> None:
        before = rotation_registry.load(ready)
        with pytest.raises(Crash):
            Rotation(engine_registry, hook=crash_at(step, moment)).rotate(ready, force=True)
        current = rotation_registry.load(ready)
        if self.current_works_while_pending or step not in ("set", "test"):
            assert accepts(current)
        outcome = rotation_registry.rotation().rotate(ready)
        if step == "promote" and moment == "recorded":
            assert outcome.status == "not-due"  # the rotation had completed
        else:
            assert outcome.status == "rotated", outcome.error
        after = rotation_registry.load(ready)
        assert accepts(after)
        assert after.block_version != before.block_version
        events = rotation_events(ready, registry=rotation_registry)
        assert [e.step for e in events].count("promote") == 1
        assert len({e.run_id for e in events if e.step != "revoke"}) == 1

    @pytest.mark.parametrize("step", ["create", "set", "test"])
    def test_cancel_after_each_step_keeps_current_working(
        self, rotation_registry: Registry, engine_registry: Registry, ready: str,
        accepts: Accepts, step: str
    ) -> None:
        before = rotation_registry.load(ready)
        with pytest.raises(Crash):
            Rotation(engine_registry, hook=crash_at(step, "recorded")).rotate(ready, force=True)
        pending = rotation_registry.load(ready, stage="pending")
        outcome = rotation_registry.rotation().cancel(ready)
        assert outcome.status == "cancelled"
        current = rotation_registry.load(ready)
        assert current.block_version == before.block_version
        assert accepts(current)
        if self.cancel_restores_upstream and self._has_upstream(pending):
            assert not accepts(pending)
        with pytest.raises(BlockNotFound, match="no pending version"):
            rotation_registry.load(ready, stage="pending")
        with pytest.raises(RotationError, match="nothing to cancel"):
            rotation_registry.rotation().cancel(ready)
        assert rotation_registry.rotation().rotate(ready, force=True).status == "rotated"
        assert accepts(rotation_registry.load(ready))

    def test_no_secret_in_rotation_records(self, rotation_registry: Registry,
                                           engine_registry: Registry, ready: str) -> None:
        rot = rotation_registry.rotation()
        for _ in range(2):
            assert rot.rotate(ready, force=True).status == "rotated"
        stored = stored_rotation_text(engine_registry)
        for secret in all_secrets(rotation_registry, ready):
            assert secret not in stored
