"""A run checked against the block's sealed head before a step acts on it (issue 17).

The run itself is sealed with its policy row, but a sealed row can be an old one put back; the
block's sealed head says what is staged now. A run may only go on when its versions agree with
the head: its base is not above the current version (a save meanwhile leaves it behind, and
promotion then fails on the head's compare-and-set), and the version it promotes is above the
base and is the head's sealed ``pending`` stage (or already current: promoted before a crash).
So a rotation never re-seals the head onto an older version and never revokes the current one.
"""

from __future__ import annotations

from collections.abc import Mapping

from blocks.errors import IntegrityError
from blocks.rotation_types.rows import Run


def _refuse(ref: str, detail: str) -> IntegrityError:
    return IntegrityError(f"the rotation run of {ref}", detail)


def check_run(ref: str, run: Run, stages: Mapping[str, int]) -> bool:
    """Check a stored run against the head's ``stages``; True if it was promoted already.

    Raises:
        IntegrityError: the run's versions do not match the sealed head (nothing acted).
    """
    base, pending, current = run.base_version, run.pending_version, stages.get("current")
    if type(base) is not int or (pending is not None and type(pending) is not int):
        raise _refuse(ref, "its versions are not numbers")
    if pending is not None and pending <= base:
        raise _refuse(ref, f"it would promote version {pending}, which is not above its base "
                           f"version {base}")
    if pending is not None and current == pending:
        return True
    # A save meanwhile may have moved current past the base: then promotion fails on the
    # head's compare-and-set (ConflictError) and the run stays cancellable.
    if type(current) is not int or current < base:
        raise _refuse(ref, f"its base version {base} is above the current version {current}")
    if pending is not None and stages.get("pending") != pending:
        raise _refuse(ref, f"version {pending} is not the block's pending version")
    if pending is None and run.step != "start":
        raise _refuse(ref, f"it completed step {run.step!r} without a pending version")
    return False


def check_promotion(ref: str, run: Run, stages: Mapping[str, int]) -> bool:
    """Refuse to promote anything but the sealed ``pending`` version above the base; True if
    it was promoted already (before a crash kept that from being recorded).

    Raises:
        IntegrityError: as :func:`check_run`, or nothing to promote.
    """
    if run.pending_version is None:
        raise _refuse(ref, "it has no pending version to promote")
    return check_run(ref, run, stages)


def revocable(version: int | None, stages: Mapping[str, int]) -> bool:
    """Only an older credential is revoked: never the current or the pending version."""
    current = stages.get("current")
    return (type(version) is int and type(current) is int and version < current
            and version != stages.get("pending"))


def check_cancel(ref: str, run: Run, stages: Mapping[str, int]) -> None:
    """A run to cancel must not name a pending version at or below its base, nor a base
    above the current version.

    Raises:
        IntegrityError: its versions do not match the sealed head (nothing acted).
    """
    base, pending, current = run.base_version, run.pending_version, stages.get("current")
    if pending is not None and (type(pending) is not int or type(base) is not int
                                or pending <= base):
        raise _refuse(ref, "its pending version is not above its base version")
    if type(current) is not int or current < base:
        raise _refuse(ref, f"its base version {base} is above the current version {current}")
