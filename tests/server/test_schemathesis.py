"""Schemathesis against a real ``blocks server run`` and the OpenAPI document it serves.

Every operation is fuzzed twice: with a valid admin token and with none. The run fails on any
response with status 500 (or above), any response that breaks the document (undocumented
status, wrong content type, body not matching the response schema) and any body holding a
traceback. Bounded: a few examples per operation, so the run takes well under a minute.
Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import init_server, require_server_extra, server_env, start_server

# Examples per operation: (valid inputs, invalid inputs). Invalid inputs stop at validation
# (422) and a request without a token at authentication (401): fewer of those find as much.
EXAMPLES_WITH_TOKEN = (8, 4)
EXAMPLES_WITHOUT = (1, 1)


def fuzz(schema: Any, base_url: str, headers: dict[str, str], examples: tuple[int, int],
         statuses: collections.Counter[int], problems: list[str]) -> int:
    """Fuzz every operation with valid and with invalid inputs; returns the number of
    responses."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    from schemathesis import GenerationMode

    # A refused JWT login counts towards the address's lock-out (429 for every request for a
    # moment): fuzz it last, so that it does not hide the other operations.
    operations = sorted((r.ok() for r in schema.get_all_operations()),
                        key=lambda op: op.path == "/v1/auth/jwt/login")
    for operation in operations:
        for mode, count in zip((GenerationMode.POSITIVE, GenerationMode.NEGATIVE), examples,
                               strict=True):
            run_operation(operation, mode, base_url, headers, count, statuses, problems,
                          checks)
    return sum(statuses.values())


def run_operation(operation: Any, mode: Any, base_url: str, headers: dict[str, str], examples: int,
                  statuses: collections.Counter[int], problems: list[str],
                  checks: list[Any]) -> None:
    """Fuzz one operation: ``examples`` cases of ``mode`` (valid or invalid inputs)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        label = f"{operation.label} -> {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{label}: server error {response.text[:200]}")
        if "Traceback (most recent call last)" in response.text:
            problems.append(f"{label}: traceback in the body")
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # FailureGroup: one per check
            for failure in getattr(exc, "exceptions", [exc]):
                title = getattr(failure, "title", None) or type(failure).__name__
                problems.append(f"{label}: {title}")

    try:
        run()
    except Unsatisfiable:
        assert mode.name == "NEGATIVE", f"{operation.label}: no valid input can be generated"
        # An operation without parameters or body has no invalid input to send.


@pytest.mark.slow
def test_fuzz_the_served_api_with_and_without_a_token(tmp_path: Path) -> None:
    require_server_extra()
    import schemathesis

    env = server_env(home=str(tmp_path / "home"))
    token = init_server(env)
    with start_server(env, tmp_path / "srv") as server:
        started = time.monotonic()
        schema = schemathesis.openapi.from_url(f"{server.url}/v1/openapi.json")
        runs = {}
        for label, headers, examples in (
            ("admin token", {"Authorization": f"Bearer {token}"}, EXAMPLES_WITH_TOKEN),
            ("no token", {}, EXAMPLES_WITHOUT),
        ):
            statuses: collections.Counter[int] = collections.Counter()
            problems: list[str] = []
            count = fuzz(schema, server.url, headers, examples, statuses, problems)
            runs[label] = (count, statuses, problems)
        elapsed = time.monotonic() - started
        operations = sum(1 for _ in schema.get_all_operations())
        log = server.stdout() + server.stderr()
    for label, (count, statuses, problems) in runs.items():
        print(f"\nschemathesis ({label}): {operations} operations, {count} responses, "
              f"statuses {dict(sorted(statuses.items()))}, "
              f"{sum(n for s, n in statuses.items() if s >= 500)} with status 5xx, "
              f"{len(problems)} breaking the spec or holding a traceback")
    print(f"schemathesis: {elapsed:.1f} s (load average {os.getloadavg()[0]:.1f})")
    for label, (count, statuses, problems) in runs.items():
        assert count > operations, f"{label}: too few requests"
        assert problems == [], f"{label}: {len(problems)} problems:\n" + "\n".join(
            sorted(set(problems))[:40])
        assert not any(s >= 500 for s in statuses), statuses
    assert statuses[401] > 0  # the run without a token was refused, not served
    assert "Traceback" not in log
    # The examples per operation bound the run; its time is printed, not asserted (speed
    # lives in benchmarks: a shared machine's load decides a wall-clock bound).
