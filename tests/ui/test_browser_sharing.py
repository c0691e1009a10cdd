"""The shared browser is stopped before a test outside tests/ui runs in the same process:
Playwright's sync API leaves its event loop running in the thread while it is started, and a
later ``asyncio.run`` (the async twins' tests) would fail with "cannot be called from a
running event loop"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_a_test_after_the_browser_tests_can_run_an_event_loop() -> None:
    tests = ["tests/ui/test_sign_in.py::test_a_bad_token_is_refused_with_a_message",
             "tests/test_async.py::test_aload_reads_on_the_loop_when_no_step_would_wait"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         *tests], cwd=ROOT, env=env, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout, done.stdout[-3000:]
