"""The benchmark's like-for-like peer (``benchmarks/server_vs_openbao.py --peer-audit``): OpenBao's
dev server with a file audit device really records every read, and never the value."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import _start_or_skip
from tests.servers import start_openbao

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> Any:
    """The benchmark script as a module."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import server_vs_openbao
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return server_vs_openbao


def test_the_audited_peer_logs_each_read_without_its_value(bench: Any, tmp_path: Path) -> None:
    bao = _start_or_skip(bench.audited_openbao, tmp_path)
    try:
        token = bao.extra["token"]
        bench.check_audit_device(bao.url, token)  # raises unless a file device is listed
        read = bench.openbao_url(bao.url, token)
        log = tmp_path / "audit.log"
        before = log.read_text().count('"path":"secret/data/bench"')
        for _ in range(3):
            answer = httpx.get(read, headers={"X-Vault-Token": token}, timeout=10)
            assert answer.json()["data"]["data"]["value"] == bench.VALUE
        text = log.read_text()
        # A request entry and a response entry per read.
        assert text.count('"path":"secret/data/bench"') - before == 6
        assert bench.VALUE not in text and token not in text
    finally:
        bao.stop()


def test_without_the_option_the_peer_has_no_audit_device(bench: Any, tmp_path: Path) -> None:
    bao = _start_or_skip(start_openbao, tmp_path)
    try:
        with pytest.raises(RuntimeError, match="no file audit device"):
            bench.check_audit_device(bao.url, bao.extra["token"])
    finally:
        bao.stop()
