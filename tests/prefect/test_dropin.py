"""Acceptance: the same flow source (dropin_flow.py) under a real Prefect 3.8 server, once with
Prefect's and prefect-aws's classes and once with ours, gives the same results; and downloading
the 50 MB object to a path stays below 64 MB of RSS growth."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.prefect_server import client_env
from tests.servers import Server

pytestmark = [pytest.mark.aws, pytest.mark.prefect, pytest.mark.slow]

FLOW = Path(__file__).with_name("dropin_flow.py")
BIG = 50 * 1024 * 1024
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the flow uploads: a 50 MB random file and a small folder tree."""
    work = tmp_path_factory.mktemp("dropin")
    with (work / "big.bin").open("wb") as f:
        for _ in range(BIG // (1 << 20)):
            f.write(secrets.token_bytes(1 << 20))
    (work / "tree" / "sub").mkdir(parents=True)
    (work / "tree" / "a.txt").write_text("a\n")
    (work / "tree" / "sub" / "b.txt").write_text("b\n")
    return work


def run_side(side: str, prefect_server: Server, moto_server: Server, work: Path,
             tmp: Path) -> tuple[dict[str, Any], dict[str, str]]:
    side_work = tmp / side
    side_work.mkdir()
    (side_work / "big.bin").symlink_to(work / "big.bin")
    (side_work / "tree").symlink_to(work / "tree", target_is_directory=True)
    env = client_env(prefect_server, tmp / f"prefect-home-{side}")
    env.update(
        DROPIN_SIDE=side, DROPIN_MOTO_URL=moto_server.url, DROPIN_WORK=str(side_work),
        DROPIN_BUCKET=f"dropin-{side}-{secrets.token_hex(3)}", BLOCKS_HOME=str(tmp / "blocks"),
    )
    for var in [v for v in env if v.startswith(("AWS_", "BLOCKS_DATABASE", "BLOCKS_KEY"))]:
        del env[var]
    proc = subprocess.run([sys.executable, str(FLOW)], env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("DROPIN_RESULT ")]
    assert proc.returncode == 0 and lines, (
        f"{side} flow failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-5000:]}")
    return json.loads(lines[-1].removeprefix("DROPIN_RESULT ")), env


def test_same_flow_same_results_with_prefect_and_with_blocks(
    prefect_server: Server, moto_server: Server, work: Path, tmp_path: Path
) -> None:
    theirs, _ = run_side("prefect", prefect_server, moto_server, work, tmp_path)
    ours, env = run_side("blocks", prefect_server, moto_server, work, tmp_path)

    assert ours == theirs
    # And the results are the right ones, not merely equal.
    assert ours["sync"] == {
        "json_keys": ["zeta", "alpha"], "json_value": {"zeta": 1, "alpha": {"b": 2, "a": 1}},
        "overwritten": "second", "missing": "ValueError"}
    assert ours["async"] == {
        "aload": "second", "await_load": ["zeta", "alpha"], "await_save": "saved-awaited",
        "await_save_loaded": "saved-again", "await_delete": "ValueError", "asave": "via-asave",
        "adelete": "ValueError"}
    assert ours["schema"] == {"reading": 3, "unit": None, "warned_unit": True}
    assert ours["s3"]["big_key"] == "dropin/data/big.bin" and ours["s3"]["big_same"]
    assert ours["s3"]["folder_files"] == ["a.txt", "sub/b.txt"] and ours["s3"]["folder_same"]

    # Both runs are real flow runs on the Prefect server.
    import httpx

    api = prefect_server.extra["api_url"]
    runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 10}, timeout=30).json()
    states = [r["state_type"] for r in runs if r["name"]]
    assert states.count("COMPLETED") >= 2, states

    rss_growth = download_rss_growth(env, tmp_path)
    print(f"50 MB download_object_to_path: peak RSS growth {rss_growth / 2**20:.1f} MB")
    assert rss_growth < 64 * 2**20


DOWNLOAD_RSS = textwrap.dedent('''
    import sys
    from pathlib import Path
    from blocks import S3Bucket

    def kb(field):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise LookupError(field)

    bucket = S3Bucket.load("dropin-bucket")
    bucket.download_object_to_path("tree/a.txt", sys.argv[1] + ".warm")  # clients, threads
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = kb("VmRSS")
    bucket.download_object_to_path("data/big.bin", sys.argv[1])
    print(kb("VmHWM") - before, Path(sys.argv[1]).stat().st_size)
''')


def download_rss_growth(env: dict[str, str], tmp: Path) -> int:
    """Peak RSS growth of a process downloading the 50 MB object with our S3Bucket."""
    target = tmp / "rss" / "big.bin"
    target.parent.mkdir()
    out = subprocess.run([sys.executable, "-c", DOWNLOAD_RSS, str(target)], env=env,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    growth, size = (int(x) for x in out.stdout.split())
    assert size == BIG
    return growth

