"""Typed job variables of each work-pool type. No I/O.

Each model's JSON Schema is the ``variables`` half of that type's default base job template
(see :mod:`blocks.pools.templates`); the field names follow Prefect's workers (process, docker,
prefect-aws ECS, prefect-kubernetes) so that pools move over unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PoolType = Literal["process", "docker", "ecs", "kubernetes"]
POOL_TYPES: tuple[PoolType, ...] = ("process", "docker", "ecs", "kubernetes")

DEFAULT_IMAGE = "python:3.11-slim"
BLOCK_REF_HINT = "a '{{ blocks.<slug>.<name> }}' placeholder"
# Kubernetes resource quantity, e.g. 500m, 1, 2Gi, 1.5e3.
QUANTITY_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+|[numkKMGTPE]i?)?$"
PullPolicy = Literal["IfNotPresent", "Always", "Never"]


class BaseJobVariables(BaseModel):
    """Variables every work-pool type has."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, description="Name given to the infrastructure created for a flow run."
    )
    env: dict[str, str | None] = Field(
        default={},
        description=(
            "Environment variables for the flow run; merged key by key over the pool's "
            "defaults (null removes an inherited variable)."
        ),
    )
    labels: dict[str, str] = Field(
        default={}, description="Labels (tags) applied to the infrastructure."
    )
    command: str | None = Field(
        default=None,
        description="Command that starts the flow run; the image's entrypoint when unset.",
    )

    @classmethod
    def variables_schema(cls) -> dict[str, Any]:
        """The JSON Schema of these variables, as stored in ``base_job_template.variables``."""
        return cls.model_json_schema()


class ProcessJobVariables(BaseJobVariables):
    """Variables of a ``process`` pool: the flow run is a local subprocess of the worker."""

    model_config = ConfigDict(title="ProcessJobVariables")

    stream_output: bool = Field(
        default=True, description="Stream the subprocess's output to the worker's output."
    )
    working_dir: str | None = Field(
        default=None,
        description="Directory the subprocess runs in; a temporary directory when unset.",
    )


class DockerJobVariables(BaseJobVariables):
    """Variables of a ``docker`` pool: the flow run is a container on the worker's Docker."""

    model_config = ConfigDict(title="DockerJobVariables")

    image: str = Field(default=DEFAULT_IMAGE, description="Image of the flow-run container.")
    image_pull_policy: PullPolicy | None = Field(
        default=None, description="When to pull the image: IfNotPresent, Always or Never."
    )
    registry_credentials: str | None = Field(
        default=None,
        description=f"Registry login for private images: {BLOCK_REF_HINT}.",
    )
    networks: list[str] = Field(default=[], description="Docker networks to attach.")
    network_mode: str | None = Field(
        default=None, description="Docker network mode (bridge, host, none, ...)."
    )
    auto_remove: bool = Field(default=False, description="Remove the container when it exits.")
    volumes: list[str] = Field(
        default=[], description="Volume mounts as 'host_path:container_path[:mode]'."
    )
    stream_output: bool = Field(
        default=True, description="Stream the container's output to the worker's output."
    )
    mem_limit: str | None = Field(
        default=None, description="Memory limit, e.g. '512m' or '2g'; unlimited when unset."
    )
    memswap_limit: str | None = Field(
        default=None, description="Memory plus swap limit; -1 for unlimited swap."
    )
    privileged: bool = Field(default=False, description="Give the container extended privileges.")


class EcsJobVariables(BaseJobVariables):
    """Variables of an ``ecs`` pool: the flow run is an ECS task (Fargate by default)."""

    model_config = ConfigDict(title="EcsJobVariables")

    aws_credentials: str | None = Field(
        default=None,
        description=f"AWS credentials: {BLOCK_REF_HINT}; the worker's own when unset.",
    )
    cluster: str | None = Field(
        default=None, description="ECS cluster name or ARN; the default cluster when unset."
    )
    launch_type: Literal["FARGATE", "EC2", "EXTERNAL", "FARGATE_SPOT"] = Field(
        default="FARGATE", description="Launch type: FARGATE, EC2, EXTERNAL or FARGATE_SPOT."
    )
    image: str = Field(default=DEFAULT_IMAGE, description="Image of the flow-run container.")
    container_name: str = Field(
        default="flow-run", description="Name of the flow-run container in the task definition."
    )
    family: str = Field(default="blocks-flow-run", description="Task definition family.")
    task_definition_arn: str | None = Field(
        default=None,
        description="Run this existing task definition instead of registering one.",
    )
    cpu: int = Field(default=1024, gt=0, description="CPU units (1024 is one vCPU).")
    memory: int = Field(default=2048, gt=0, description="Memory in MiB.")
    execution_role_arn: str | None = Field(
        default=None, description="IAM role ECS uses to pull images and write logs."
    )
    task_role_arn: str | None = Field(
        default=None, description="IAM role the flow run's code runs as."
    )
    vpc_id: str | None = Field(
        default=None, description="VPC of the task; the default VPC when unset."
    )
    subnets: list[str] | None = Field(
        default=None,
        description="Subnet ids of the task's network; the worker looks up the VPC's when unset.",
    )
    security_groups: list[str] | None = Field(
        default=None, description="Security group ids of the task's network."
    )
    assign_public_ip: Literal["ENABLED", "DISABLED"] | None = Field(
        default=None, description="Give the task a public IP: ENABLED or DISABLED."
    )
    configure_cloudwatch_logs: bool = Field(
        default=False, description="Send the container's output to CloudWatch Logs."
    )
    stream_output: bool = Field(
        default=False, description="Copy CloudWatch logs to the worker's output."
    )
    task_start_timeout_seconds: int = Field(
        default=300, ge=0, description="Seconds to wait for the task to start."
    )
    task_watch_poll_interval: float = Field(
        default=5.0, gt=0, description="Seconds between task status polls."
    )
    auto_deregister_task_definition: bool = Field(
        default=False, description="Deregister the registered task definition after the run."
    )


class KubernetesJobVariables(BaseJobVariables):
    """Variables of a ``kubernetes`` pool: the flow run is a Kubernetes Job."""

    model_config = ConfigDict(title="KubernetesJobVariables")

    name: str = Field(  # a Job needs a name prefix, so it is required here
        default="flow-run",
        max_length=57,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Prefix of the Job's name (lowercase letters, digits and dashes).",
    )

    image: str = Field(default=DEFAULT_IMAGE, description="Image of the flow-run container.")
    namespace: str = Field(default="default", description="Namespace of the Job.")
    service_account_name: str | None = Field(
        default=None, description="Service account the Job's pod runs as."
    )
    image_pull_policy: PullPolicy = Field(
        default="IfNotPresent", description="When to pull the image: IfNotPresent, Always, Never."
    )
    cpu_request: str | None = Field(
        default=None, pattern=QUANTITY_PATTERN, description="CPU request, e.g. '500m'."
    )
    cpu_limit: str | None = Field(
        default=None, pattern=QUANTITY_PATTERN, description="CPU limit, e.g. '2'."
    )
    memory_request: str | None = Field(
        default=None, pattern=QUANTITY_PATTERN, description="Memory request, e.g. '512Mi'."
    )
    memory_limit: str | None = Field(
        default=None, pattern=QUANTITY_PATTERN, description="Memory limit, e.g. '2Gi'."
    )
    backoff_limit: int = Field(
        default=0, ge=0, description="Retries of a failed pod before the Job fails."
    )
    finished_job_ttl: int | None = Field(
        default=None,
        ge=0,
        description="Seconds to keep a finished Job before deleting it; kept when unset.",
    )
    cluster_config: str | None = Field(
        default=None,
        description=f"Cluster to submit to: {BLOCK_REF_HINT}; in-cluster config when unset.",
    )
    job_watch_timeout_seconds: int | None = Field(
        default=None, ge=0, description="Seconds to wait for the Job to finish; no limit unset."
    )
    pod_watch_timeout_seconds: int = Field(
        default=60, ge=0, description="Seconds to wait for the pod to start."
    )
    stream_output: bool = Field(
        default=True, description="Stream the pod's output to the worker's output."
    )


JOB_VARIABLES: dict[PoolType, type[BaseJobVariables]] = {
    "process": ProcessJobVariables,
    "docker": DockerJobVariables,
    "ecs": EcsJobVariables,
    "kubernetes": KubernetesJobVariables,
}
