"""Default base job templates, one per work-pool type. No I/O.

A base job template is ``{"job_configuration": ..., "variables": ...}``: ``variables`` is the
JSON Schema of the pool's job variables (generated from the typed models in
:mod:`blocks.pools.job_variables`), and ``job_configuration`` is the job a worker runs, with
``{{ variable }}`` placeholders where those values go.
"""

from __future__ import annotations

import copy
from typing import Any

from blocks.pools.job_variables import JOB_VARIABLES, POOL_TYPES, PoolType


def _common() -> dict[str, Any]:
    return {
        "name": "{{ name }}",
        "env": "{{ env }}",
        "labels": "{{ labels }}",
        "command": "{{ command }}",
    }


def _process() -> dict[str, Any]:
    return {
        **_common(),
        "stream_output": "{{ stream_output }}",
        "working_dir": "{{ working_dir }}",
    }


def _docker() -> dict[str, Any]:
    return {
        **_common(),
        "image": "{{ image }}",
        "image_pull_policy": "{{ image_pull_policy }}",
        "registry_credentials": "{{ registry_credentials }}",
        "networks": "{{ networks }}",
        "network_mode": "{{ network_mode }}",
        "auto_remove": "{{ auto_remove }}",
        "volumes": "{{ volumes }}",
        "stream_output": "{{ stream_output }}",
        "mem_limit": "{{ mem_limit }}",
        "memswap_limit": "{{ memswap_limit }}",
        "privileged": "{{ privileged }}",
    }


def _ecs() -> dict[str, Any]:
    return {
        **_common(),
        "aws_credentials": "{{ aws_credentials }}",
        "task_definition": {
            "family": "{{ family }}",
            "cpu": "{{ cpu }}",
            "memory": "{{ memory }}",
            "executionRoleArn": "{{ execution_role_arn }}",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "containerDefinitions": [{"name": "{{ container_name }}", "image": "{{ image }}"}],
        },
        "task_run_request": {
            "cluster": "{{ cluster }}",
            "launchType": "{{ launch_type }}",
            "taskDefinition": "{{ task_definition_arn }}",
            "tags": "{{ labels }}",
            "overrides": {
                "taskRoleArn": "{{ task_role_arn }}",
                "containerOverrides": [
                    {
                        "name": "{{ container_name }}",
                        "command": "{{ command }}",
                        "environment": "{{ env }}",
                    }
                ],
            },
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": "{{ subnets }}",
                    "securityGroups": "{{ security_groups }}",
                    "assignPublicIp": "{{ assign_public_ip }}",
                }
            },
        },
        "vpc_id": "{{ vpc_id }}",
        "configure_cloudwatch_logs": "{{ configure_cloudwatch_logs }}",
        "stream_output": "{{ stream_output }}",
        "task_start_timeout_seconds": "{{ task_start_timeout_seconds }}",
        "task_watch_poll_interval": "{{ task_watch_poll_interval }}",
        "auto_deregister_task_definition": "{{ auto_deregister_task_definition }}",
    }


def _kubernetes() -> dict[str, Any]:
    container = {
        "name": "flow-run",
        "image": "{{ image }}",
        "imagePullPolicy": "{{ image_pull_policy }}",
        "args": "{{ command }}",
        "env": "{{ env }}",
        "resources": {
            "requests": {"cpu": "{{ cpu_request }}", "memory": "{{ memory_request }}"},
            "limits": {"cpu": "{{ cpu_limit }}", "memory": "{{ memory_limit }}"},
        },
    }
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": "{{ name }}-",
            "namespace": "{{ namespace }}",
            "labels": "{{ labels }}",
        },
        "spec": {
            # One pod per flow run; these are Job fields (Prefect's default puts them in the
            # pod spec, where Kubernetes ignores or rejects them).
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": "{{ backoff_limit }}",
            "ttlSecondsAfterFinished": "{{ finished_job_ttl }}",
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": "{{ service_account_name }}",
                    "containers": [container],
                }
            },
        },
    }
    return {
        **_common(),
        "namespace": "{{ namespace }}",
        "job_manifest": manifest,
        "cluster_config": "{{ cluster_config }}",
        "job_watch_timeout_seconds": "{{ job_watch_timeout_seconds }}",
        "pod_watch_timeout_seconds": "{{ pod_watch_timeout_seconds }}",
        "stream_output": "{{ stream_output }}",
    }


_JOB_CONFIGURATIONS = {
    "process": _process,
    "docker": _docker,
    "ecs": _ecs,
    "kubernetes": _kubernetes,
}


def default_base_job_template(pool_type: PoolType) -> dict[str, Any]:
    """The default base job template of a pool type, as a fresh JSON-able dict.

    Args:
        pool_type: ``process``, ``docker``, ``ecs`` or ``kubernetes``.

    Returns:
        ``{"job_configuration": ..., "variables": ...}``.

    Raises:
        ValueError: ``pool_type`` is not one of the four types.

    Example:
        >>> template = default_base_job_template("kubernetes")
        >>> template["job_configuration"]["namespace"]
        '{{ namespace }}'
        >>> template["variables"]["properties"]["namespace"]["default"]
        'default'
    """
    if pool_type not in _JOB_CONFIGURATIONS:
        raise ValueError(f"unknown pool type {pool_type!r}; use one of {', '.join(POOL_TYPES)}")
    return {
        "job_configuration": _JOB_CONFIGURATIONS[pool_type](),
        "variables": copy.deepcopy(JOB_VARIABLES[pool_type].variables_schema()),
    }
