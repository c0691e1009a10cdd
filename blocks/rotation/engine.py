"""The rotation state machine: start, create, set, test, promote, revoke, cancel; resumable.

Every step is recorded (the run's last completed step and an event) before the next starts, so a
process killed at any point is resumed by the next run, or rolled back with ``cancel``. A lease
on the block's policy row makes concurrent runs (two ``blocks rotate --due`` on one database)
rotate each block once: the first takes the lease, the second skips the block; a lease whose
process died (same host, pid gone) or whose time ran out is taken over.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from blocks.audit_actor import acting_via
from blocks.core import Block, split_ref
from blocks.errors import (
    BlockNotFound,
    BlocksError,
    ConfigurationError,
    IntegrityError,
    RotationError,
)
from blocks.rotation import guard
from blocks.rotation.base import RotationContext, Rotator
from blocks.rotation.outcome import (
    LEASE,
    Hook,
    Outcome,
    dead_local_owner,
    default_actor,
    describe_error,
    new_owner,
    scrub,
)
from blocks.rotation.policies import Policies
from blocks.rotation.records import LeaseLost, RotationStore
from blocks.rotation.rows import Event, PolicyRecord, Run

if TYPE_CHECKING:
    from pydantic import BaseModel

    from blocks.registry import Registry
    from blocks.store.records import BlockSummary

class Rotation(Policies):
    """Runs rotations for one registry.

    Args:
        registry: the registry whose blocks rotate.
        actor: who is recorded (``cli:alice``, ``terraform:alice``; default ``api:<user>``).
        clock: "now" (injectable for tests).
        hook: called around each step (tests kill the process there).
    """

    def __init__(
        self,
        registry: Registry,
        *,
        actor: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hook: Hook | None = None,
    ) -> None:
        self.registry = registry
        self.actor = actor or default_actor()
        self.clock = clock
        self.hook = hook or (lambda step, moment: None)
        self.store = RotationStore(registry.store, registry.sealer)
        self.owner = new_owner()
        self._rotators: dict[str, tuple[Rotator, BaseModel]] = {}

    # -- running --------------------------------------------------------------------------

    def rotate(self, ref: str, *, force: bool = False) -> Outcome:
        """Rotate ``ref`` if due (or ``force``), resuming an interrupted run first."""
        return self._leased(ref, lambda rec: self._advance(ref, rec, force))

    def _rotate_summary(self, summary: BlockSummary) -> Outcome:
        return self._leased(summary.ref, lambda rec: self._advance(summary.ref, rec, False),
                            summary=summary)

    def cancel(self, ref: str) -> Outcome:
        """Roll back the run in flight: upstream accepts ``current`` again, pending is dropped."""
        def go(rec: PolicyRecord) -> Outcome:
            if rec.run is None:
                raise RotationError(ref, "cancel", "no rotation in flight; nothing to cancel")
            rec.run.cancelling = True
            self._write(rec, run=rec.run)
            return self._cancel(ref, rec, rec.run)

        return self._leased(ref, go, busy_is_error=True)

    def due(self, only: Callable[[str], bool] | None = None) -> list[str]:
        """Refs of blocks with something due (rotation, resumption or revocation);
        ``only(ref)``: just those it accepts (a server: those the caller may see)."""
        return [s.ref for s in self._due(only)]

    def _due(self, only: Callable[[str], bool] | None = None) -> list[BlockSummary]:
        ids = self.store.due(self.clock())
        if not ids:
            return []
        found = {b.id: b for b in self.registry.list()}
        return [found[i] for i in ids if i in found and (only is None or only(found[i].ref))]

    def rotate_due(self, progress: Callable[[int, int, Outcome], None] | None = None,
                   only: Callable[[str], bool] | None = None) -> list[Outcome]:
        """Rotate, resume or revoke whatever is due; one outcome per block. ``only(ref)``:
        just the blocks it accepts (a server: those the caller may rotate)."""
        due = self._due(only)
        outcomes = []
        for i, summary in enumerate(due, 1):
            try:
                outcome = self._rotate_summary(summary)
            except BlockNotFound:
                continue  # deleted meanwhile
            except IntegrityError as exc:  # refused before anything acted; the others go on
                outcome = Outcome(summary.ref, "failed", error=str(exc))
            outcomes.append(outcome)
            if progress is not None:
                progress(i, len(due), outcome)
        return outcomes

    def _leased(
        self, ref: str, body: Callable[[PolicyRecord], Outcome], busy_is_error: bool = False,
        summary: BlockSummary | None = None,
    ) -> Outcome:
        with acting_via("rotation"):  # the audit trail names rotation as the way in
            return self._leased_as(ref, body, busy_is_error, summary)

    def _leased_as(
        self, ref: str, body: Callable[[PolicyRecord], Outcome], busy_is_error: bool,
        summary: BlockSummary | None,
    ) -> Outcome:
        summary = summary or self.registry.summary(ref)
        block_id = summary.id
        now = self.clock()
        # The common case takes a free lease and reads the row in one statement; only a
        # refused lease reads the row, to tell "no policy" and "dead holder" from "busy".
        fresh = self.store.acquire(block_id, self.owner, now, now + LEASE, what=ref)
        if fresh is None:
            rec = self.store.get(block_id, ref)
            if rec is None:
                raise ConfigurationError(
                    f"{ref} has no rotation policy; set one with 'blocks rotation set {ref} "
                    "--rotator NAME --every 30d' or blocks.rotation.set_rotation()"
                )
            if dead_local_owner(rec.lease_owner):
                fresh = self.store.acquire(block_id, self.owner, now, now + LEASE,
                                           rec.lease_owner, what=ref)
        if fresh is None:
            if busy_is_error:
                raise RotationError(ref, "cancel", "a rotation of this block is running in "
                                    "another process; retry when it ends")
            return Outcome(ref, "busy")
        try:
            return body(fresh)
        except LeaseLost:
            return Outcome(ref, "busy")
        finally:
            if not fresh.released:
                # Taken over or deleted: nothing of ours to release.
                with contextlib.suppress(LeaseLost, BlocksError):
                    self.store.write(fresh, self.owner, fresh.take_events(),
                                     lease_owner=None, lease_until=None)

    @staticmethod
    def _release_if(rec: PolicyRecord, last: bool) -> dict[str, Any]:
        """Columns that release the lease in a run's last write (saves a transaction)."""
        rec.released = last
        return {"lease_owner": None, "lease_until": None} if last else {}

    def _write(self, rec: PolicyRecord, events: list[Event] | None = None, **values: Any) -> None:
        if "lease_owner" not in values:
            values.setdefault("lease_until", self.clock() + LEASE)
        self.store.write(rec, self.owner, [*rec.take_events(), *(events or [])],
                         **values)

    def _event(self, rec: PolicyRecord, run_id: str, step: str, outcome: str, versions: str,
               error: str | None = None) -> Event:
        return Event(rec.block_id, run_id, self.clock(), self.actor, step, outcome, versions,
                     error)

    def _context(self, ref: str, rec: PolicyRecord, current: Block, state: dict[str, Any],
                 run: Run | None = None) -> RotationContext:
        _, options = self._rotator(ref, rec.policy)

        def checkpoint() -> None:
            if run is not None:
                self._write(rec, run=run, state="running")
            else:
                self._write(rec, revoke_state=state)

        return RotationContext(self.registry, ref, current, options, state,
                               _checkpoint=checkpoint)

    def _advance(self, ref: str, rec: PolicyRecord, force: bool) -> Outcome:
        now = self.clock()
        if rec.run is not None:
            if rec.run.cancelling:
                return self._cancel(ref, rec, rec.run)
            return self._steps(ref, rec, rec.run, resumed=True)
        rotation_due = force or (rec.next_due_at is not None and rec.next_due_at <= now)
        revoked = False
        if rec.revoke_version is not None and (
            rotation_due or (rec.revoke_due_at is not None and rec.revoke_due_at <= now)
        ):
            failed = self._revoke(ref, rec)
            if failed is not None:
                return failed
            revoked = True
        if not rotation_due:
            return Outcome(ref, "revoked" if revoked else "not-due")
        # Read under the lease: a rotation that finished meanwhile has moved it.
        base = self.registry.summary(ref).current_version
        run = Run(str(uuid.uuid4()), "start", base, now, self.actor, state={})
        rec.run = run
        # Recorded with create's state in one write (a crash before it left nothing to resume).
        rec.pending_events.append(self._event(rec, run.id, "start", "ok", f"current={base}"))
        return self._steps(ref, rec, run, resumed=False)

    def _steps(self, ref: str, rec: PolicyRecord, run: Run, resumed: bool) -> Outcome:
        """Run the steps after ``run.step``. A ``resumed`` run (interrupted before) first
        looks for what its last, unrecorded step left; a new one knows there is nothing."""
        rotator, _ = self._rotator(ref, rec.policy)
        _, name = split_ref(ref)
        if resumed:  # a run from the stored row: it must agree with the sealed head
            guard.check_run(ref, run, self.registry.stages(ref))
        current = self.registry.load(ref, version=run.base_version)
        ctx = self._context(ref, rec, current, run.state, run)
        step = "create"
        try:
            if run.step == "start":
                run.pending_version = self._staged_pending(ref, run) if resumed else None
                if run.pending_version is None:
                    block = rotator.create(ctx)
                    # The state create made must survive a crash right after staging.
                    self._write(rec, run=run, state="running")
                    info = self.registry.save(
                        block, name, stage="pending", expected_version=run.base_version,
                        note=f"rotation {run.id[:8]} ({rotator.name})",
                    )
                    run.pending_version = info.version
                    ctx.pending = block  # saved (and stamped) as the pending version
                self.hook("create", "upstream")
                self._record(rec, run, "create")
            if ctx.pending is None:
                ctx.pending = self.registry.load(ref, version=run.pending_version)
            for step, method in (("set", rotator.set), ("test", rotator.test)):
                if run.step == {"set": "create", "test": "set"}[step]:
                    method(ctx)
                    self.hook(step, "upstream")
                    self._record(rec, run, step)
            step = "promote"
            self._promote(ref, rec, run, resumed)
        except LeaseLost:
            raise
        except Exception as exc:
            return self._fail(ref, rec, run, step, exc, [current, ctx.pending])
        outcome = Outcome(ref, "rotated", run.pending_version, run_id=run.id)
        if rec.policy.grace <= timedelta(0):
            failed = self._revoke(ref, rec, last=True)
            if failed is not None:
                return failed
        return outcome

    def _staged_pending(self, ref: str, run: Run) -> int | None:
        """A pending version staged by this run before a crash kept it from being recorded."""
        pending = self.registry.stages(ref).get("pending")
        return pending if pending is not None and pending > run.base_version else None

    def _record(self, rec: PolicyRecord, run: Run, step: str) -> None:
        run.step = step
        versions = f"current={run.base_version} pending={run.pending_version}"
        self._write(rec, [self._event(rec, run.id, step, "ok", versions)], run=run,
                    state="running", last_error=None)
        self.hook(step, "recorded")

    def _promote(self, ref: str, rec: PolicyRecord, run: Run, resumed: bool = True) -> None:
        # Resumed: the head may have moved before the crash kept it from being recorded.
        promoted = guard.check_promotion(ref, run, self.registry.stages(ref)) if resumed else False
        assert run.pending_version is not None
        if not promoted:
            self.registry.move_stages(
                ref, expected_current=run.base_version, current=run.pending_version,
                pending=None, previous=run.base_version,
            )
        self.hook("promote", "upstream")
        now = self.clock()
        self._write(
            rec,
            [self._event(rec, run.id, "promote", "ok",
                         f"current={run.pending_version} previous={run.base_version}")],
            run=None, state="idle", last_error=None, last_rotated_at=now,
            next_due_at=rec.policy.next_due(now), revoke_version=run.base_version,
            revoke_due_at=now + rec.policy.grace, revoke_state=run.state,
            **self._release_if(rec, rec.policy.grace > timedelta(0)),
        )
        rec.run, rec.revoke_version, rec.revoke_state = None, run.base_version, run.state
        self.hook("promote", "recorded")

    def _revoke(self, ref: str, rec: PolicyRecord, last: bool = False) -> Outcome | None:
        """Revoke the previous credential; an outcome only on failure. ``last``: the run's
        last write, which releases the lease."""
        version = rec.revoke_version
        assert version is not None
        run_id = str(uuid.uuid4())
        rotator, _ = self._rotator(ref, rec.policy)
        stages = self.registry.stages(ref)
        current = self.registry.load(ref)
        previous: Block | None = None
        note = "ok"
        try:
            if not guard.revocable(version, stages):
                note = "skipped"  # rolled back to it (in use again), or not older than current
            else:
                try:
                    previous = self.registry.load(ref, version=version)
                except BlockNotFound:
                    note = "skipped"  # purged: nothing left to revoke with
            if previous is not None:
                ctx = self._context(ref, rec, current, rec.revoke_state)
                ctx.previous = previous
                rotator.revoke(ctx)
            self.hook("revoke", "upstream")
            if stages.get("previous") == version:
                self.registry.move_stages(ref, expected_current=stages["current"], previous=None)
        except LeaseLost:
            raise
        except Exception as exc:
            message = scrub(describe_error(exc), [current, previous])
            self._write(rec, [self._event(rec, run_id, "revoke", "failed", f"previous={version}",
                                          message)], state="failed", last_error=message)
            return Outcome(ref, "failed", step="revoke", error=message)
        self._write(rec, [self._event(rec, run_id, "revoke", note, f"previous={version}")],
                    revoke_version=None, revoke_due_at=None, revoke_state=None,
                    state="idle" if rec.run is None else "running", last_error=None,
                    **self._release_if(rec, last))
        self.hook("revoke", "recorded")
        rec.revoke_version = None
        return None

    def _cancel(self, ref: str, rec: PolicyRecord, run: Run) -> Outcome:
        stages = self.registry.stages(ref)
        guard.check_cancel(ref, run, stages)
        if run.pending_version is None:
            run.pending_version = self._staged_pending(ref, run)
        if run.pending_version is not None and stages["current"] == run.pending_version:
            # Promotion happened before the crash: nothing to roll back, finish the run.
            self._promote(ref, rec, run)
            return Outcome(ref, "rotated", run.pending_version, "promote",
                           "already promoted; the rotation was completed instead", run.id)
        rotator, _ = self._rotator(ref, rec.policy)
        current = self.registry.load(ref, version=run.base_version)
        ctx = self._context(ref, rec, current, run.state, run)
        try:
            if run.pending_version is not None:
                ctx.pending = self.registry.load(ref, version=run.pending_version)
                rotator.cancel(ctx)
                self.hook("cancel", "upstream")
                if stages.get("pending") == run.pending_version:
                    self.registry.move_stages(ref, expected_current=stages["current"],
                                              pending=None)
        except LeaseLost:
            raise
        except Exception as exc:
            return self._fail(ref, rec, run, "cancel", exc, [current, ctx.pending])
        self._write(rec, [self._event(rec, run.id, "cancel", "ok",
                                      f"current={run.base_version} "
                                      f"dropped={run.pending_version}")],
                    run=None, state="idle", last_error=None)
        self.hook("cancel", "recorded")
        return Outcome(ref, "cancelled", run.base_version, run_id=run.id)

    def _fail(self, ref: str, rec: PolicyRecord, run: Run, step: str, exc: Exception,
              blocks: list[Block | None]) -> Outcome:
        message = scrub(describe_error(exc), blocks)
        hint = ("run 'blocks rotate --cancel " + ref + "' to roll back, or fix and run "
                "'blocks rotate --due' to resume")
        self._write(rec, [self._event(rec, run.id, step, "failed",
                                      f"current={run.base_version} "
                                      f"pending={run.pending_version}", message)],
                    run=run, state="failed", last_error=f"{step}: {message}")
        return Outcome(ref, "failed", step=step, error=f"{message} ({hint})", run_id=run.id)
