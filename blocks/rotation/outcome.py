"""What a rotation reports, and who runs it: outcomes, actors, lease owners, scrubbed errors."""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from blocks import codec
from blocks.core import Block
from blocks.errors import BlocksError, RotationError

Hook = Callable[[str, str], None]
"""``hook(step, moment)``: ``moment`` is ``upstream`` (the step's work is done, not yet
recorded) or ``recorded``. Tests use it to kill the process between the two."""

LEASE = timedelta(minutes=10)
MAX_ERROR = 500


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


def default_actor(kind: str = "api") -> str:
    """``api:<OS user>`` (or ``cli:``, ``terraform:``): who runs the rotation."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{kind}:{user}"


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_local_owner(owner: str | None) -> bool:
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def scrub(message: str, blocks: list[Block | None]) -> str:
    """``message`` with every secret value of ``blocks`` replaced by ``***``, shortened."""
    for block in blocks:
        if block is None:
            continue
        for secret in sorted(codec.secret_values(block), key=len, reverse=True):
            if len(secret) >= 4:
                message = message.replace(secret, "***")
    return message[:MAX_ERROR]


def describe_error(exc: BaseException) -> str:
    """A one-line reason: our messages as they are, others as ``Type: first line``."""
    if isinstance(exc, RotationError):
        return exc.reason
    if isinstance(exc, BlocksError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
