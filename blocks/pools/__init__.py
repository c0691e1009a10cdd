"""Work pools and work queues with typed, validated base job templates.

A work pool says where flow runs go (``process``, ``docker``, ``ecs`` or ``kubernetes``) and
holds the base job template a worker renders for each run; its queues order the runs.

Example:
    >>> from blocks.pools import WorkPool
    >>> pool = WorkPool(name="k8s-prod", type="kubernetes").save()   # doctest: +SKIP
    >>> pool.render_job({"image": "repo/app:1.2"}).masked()          # doctest: +SKIP
"""

from __future__ import annotations

from blocks.pools.job_variables import JOB_VARIABLES, POOL_TYPES, PoolType
from blocks.pools.models import WorkPool, WorkQueue
from blocks.pools.render import RenderedJob, ResolvedBlock, render_job
from blocks.pools.store import DEFAULT_QUEUE
from blocks.pools.templates import default_base_job_template
from blocks.pools.validation import validate_base_job_template

__all__ = [
    "DEFAULT_QUEUE",
    "JOB_VARIABLES",
    "POOL_TYPES",
    "PoolType",
    "RenderedJob",
    "ResolvedBlock",
    "WorkPool",
    "WorkQueue",
    "default_base_job_template",
    "render_job",
    "validate_base_job_template",
]
