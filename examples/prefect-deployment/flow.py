"""A scheduled flow that loads its credentials from Blocks at run time.

Nothing secret is in the deployment: the run's environment (the pool's env defaults) says where
the registry is and which master key opens it, and each run loads the current version of the
blocks, so a rotated token reaches the next scheduled run without a redeploy.
"""

from __future__ import annotations

import json

from prefect import flow, get_run_logger, runtime

from blocks import S3Bucket, Secret


@flow
def nightly_export(bucket: str = "reports", api_credentials: str = "reporting-api-token") -> str:
    """Write the run's report to the S3Bucket block ``bucket``; returns the object key."""
    api_token = Secret.load(api_credentials)
    reports = S3Bucket.load(bucket)
    when = runtime.flow_run.scheduled_start_time
    report = {
        "scheduled_for": when.isoformat(),
        # A real flow would call the reporting API with api_token.get(); the version says
        # which token it used, without showing it.
        "token_version": api_token.block_version,
    }
    key = reports.write_path(f"exports/{when:%Y%m%dT%H%M%S}.json", json.dumps(report).encode())
    get_run_logger().info("wrote %s with %s version %s", key, api_token.block_ref,
                          api_token.block_version)
    return key
