"""prefect-aws's own tests pass against Blocks with only their imports changed.

The tests come from the pinned prefect-aws sdist (downloaded once into the virtualenv's cache,
see prefect_aws_suite/prepare.py); rewrite.py points their imports of prefect-aws's blocks at
Blocks, and they run in a pytest of their own (prefect-aws's settings, pytest-asyncio), with
flows against this run's Prefect server. prefect-aws's tasks (``s3_download``...) stay
prefect-aws's, so they run with our blocks as arguments. excluded.txt lists every test left
out, with the reason. The suite runs on two pytest-xdist workers (prefect-aws's tests start
moto in-process for each test, which is most of their time), against a Prefect server of its
own: on the run's shared one it had to hold the shared server's turn (tests/conftest.py) for
its whole run, 100-150 s in which no other Prefect test of the run could go on.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _start_or_skip
from tests.prefect.prefect_aws_suite.prepare import VERSION, prepare
from tests.prefect_server import client_env, start_prefect
from tests.servers import Server

EXCLUDED = Path(__file__).parent / "prefect_aws_suite" / "excluded.txt"
# Of prefect-aws 0.7.12's tests outside excluded.txt: all pass but the two it marks xfail itself
# (an anonymous client reading a private bucket). 15 passed before issue 18's fixes.
EXPECTED = {"passed": 207, "xfailed": 2}


def outcomes(junit: Path) -> Counter[str]:
    """Counts of passed / failed / error / skipped / xfailed test cases in a JUnit report."""
    counts: Counter[str] = Counter()
    for case in ET.parse(junit).iter("testcase"):
        kinds = {child.tag: child.get("type", "") for child in case}
        if "failure" in kinds:
            counts["failed"] += 1
        elif "error" in kinds:
            counts["error"] += 1
        elif "skipped" in kinds:
            counts["xfailed" if kinds["skipped"] == "pytest.xfail" else "skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


@pytest.fixture(scope="module")
def suite_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prepared suite. Module-scoped, so it is made (the sdist downloaded the first time)
    before the test waits for and holds the run's Prefect turn (tests/conftest.py)."""
    return prepare(tmp_path_factory.mktemp("prefect-aws-suite"))


@pytest.fixture(scope="module")
def own_prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Prefect 3.8 server for this suite alone (stopped after it)."""
    server = _start_or_skip(start_prefect, tmp_path_factory.mktemp("prefect-aws-prefect"))
    yield server
    server.stop()


@pytest.mark.timeout(900)
def test_prefect_aws_suite_passes_against_blocks(
        suite_root: Path, own_prefect: Server, tmp_path: Path) -> None:
    root = suite_root
    junit = tmp_path / "junit.xml"
    env = client_env(own_prefect, tmp_path / "prefect-home")
    env.update(
        PYTHONPATH=str(root),
        PREFECT_TEST_MODE="1",  # prefect-aws's pytest-env setting
        # Flow-run logs are not what these tests check; sending them costs the shared server.
        PREFECT_LOGGING_TO_API_ENABLED="false",
        BLOCKS_SUITE_EXCLUDED=str(EXCLUDED),
    )
    env.pop("BLOCKS_HOME", None)  # the harness opens an empty registry of its own
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
         "tests", "-p", "blocks_suite_plugin", "-p", "no:cacheprovider", "-q", "-n", "2",
         "-o", "timeout=120", f"--junitxml={junit}"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900,
    )
    counts = outcomes(junit) if junit.exists() else Counter()
    print(f"prefect-aws {VERSION} suite against Blocks: {dict(counts)}; "
          f"{run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ''}")
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-4000:]
    assert dict(counts) == EXPECTED
