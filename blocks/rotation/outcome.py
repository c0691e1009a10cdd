"""Who runs a rotation and what it may report: actors, lease owners, scrubbed errors (the
:class:`~blocks.rotation_types.outcome.Outcome` itself sits below the registry)."""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta

from blocks import codec
from blocks.core import Block
from blocks.errors import BlocksError, RotationError

Hook = Callable[[str, str], None]
"""``hook(step, moment)``: ``moment`` is ``upstream`` (the step's work is done, not yet
recorded) or ``recorded``. Tests use it to kill the process between the two."""

LEASE = timedelta(minutes=10)
MAX_ERROR = 500


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
