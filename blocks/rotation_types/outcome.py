"""What one rotation reports: :class:`Outcome` (made by the engine, sent by ``blocks server``,
read by every :class:`~blocks.rotation_types.service.RotationService` caller)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """What one ``rotate``/``cancel`` did to one block.

    ``status``: ``rotated``, ``revoked`` (only the previous credential was revoked), ``not-due``,
    ``busy`` (another process holds the lease), ``cancelled`` or ``failed``.
    """

    ref: str
    status: str
    version: int | None = None
    step: str | None = None
    error: str | None = None
    run_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_wire(self) -> dict[str, Any]:
        """As JSON (errors are scrubbed of secret values before an outcome is made)."""
        return {"ref": self.ref, "status": self.status, "version": self.version,
                "step": self.step, "error": self.error, "run_id": self.run_id}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Outcome:
        """As :meth:`to_wire` sent it."""
        return cls(str(data["ref"]), str(data["status"]), data.get("version"),
                   data.get("step"), data.get("error"), data.get("run_id"))
