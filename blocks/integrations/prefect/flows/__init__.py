"""Flows Blocks ships for Prefect workers (they import ``prefect``; only a worker loads them)."""
