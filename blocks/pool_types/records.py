"""The records a pool store hands out: a pool's version, a queue, a rendered job's view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

DEFAULT_QUEUE = "default"
"""The queue every pool has, where runs that name no queue go."""


@dataclass(frozen=True)
class PoolRecord:
    """One version of a pool as stored."""

    id: str
    name: str
    type: str
    version: int
    current_version: int
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class QueueRecord:
    """A queue as stored."""

    id: str
    pool: str
    name: str
    description: str
    priority: int
    concurrency_limit: int | None
    is_paused: bool
    version: int
    created_at: datetime
    updated_at: datetime


class Rendered(Protocol):
    """A rendered job (``blocks.pools.render.RenderedJob``), as much as a view needs."""

    @property
    def pool(self) -> str: ...

    @property
    def queue(self) -> str: ...

    @property
    def pool_type(self) -> str: ...

    @property
    def has_secrets(self) -> bool: ...

    @property
    def configuration(self) -> dict[str, Any]: ...

    def masked(self) -> dict[str, Any]:
        """The configuration with every substituted secret shown as ``********``."""
        ...


@dataclass(frozen=True)
class RenderedView:
    """A stored pool's rendered job as a caller may see it: masked, or with secrets shown.

    Attributes:
        pool, queue, pool_type: what was rendered.
        has_secrets: a secret was substituted somewhere.
        secrets_masked: ``configuration`` shows each such secret as ``********``.
        configuration: the job (secrets in clear only when asked for).
    """

    pool: str
    queue: str
    pool_type: str
    has_secrets: bool
    secrets_masked: bool
    configuration: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, job: Rendered, show_secrets: bool) -> RenderedView:
        """The view of ``job``: masked unless ``show_secrets``."""
        return cls(pool=job.pool, queue=job.queue, pool_type=job.pool_type,
                   has_secrets=job.has_secrets,
                   secrets_masked=job.has_secrets and not show_secrets,
                   configuration=job.configuration if show_secrets else job.masked())
