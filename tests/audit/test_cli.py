"""``blocks audit``: ls with its filters, export (streamed, constant memory), who-read,
verify, prune, and hash from standard input only (issue 21)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.audit_actor import Actor, acting_as
from blocks.cli.main import main
from blocks.settings import Settings
from blocks.store import audit_log
from tests.peak_memory import peak_of

PW = "warehouse-pw-cli-8c1f"


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
        ) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    assert PW not in out + err
    return code, out, err


@pytest.fixture
def home(blocks_home: Path) -> Path:
    registry = Registry(Settings(home=blocks_home, audit_reads=True))
    Secret(value=PW).save("warehouse", registry=registry)
    with acting_as(Actor("token", "etl", "tok-9", "server", "10.0.0.9", "r1")):
        registry.load("secret/warehouse")
        registry.load("secret/warehouse")
    with acting_as(Actor("token", "intruder", "tok-6", "server", "10.0.0.6", "r2")):
        registry.audit.record("read", obj="secret/warehouse", outcome="denied",
                              error="Forbidden")
    registry.load("secret/warehouse")
    registry.close()
    return blocks_home


def test_ls_filters_and_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "ls")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SEQ", "AT", "ACTOR", "VIA", "ACTION", "OBJECT", "OUTCOME"]
    assert "denied: Forbidden" in out and "token:etl" in out and len(lines) == 6
    code, out, _ = run(capsys, "audit", "ls", "--actor", "etl", "--json")
    found = json.loads(out)
    assert [(r["action"], r["actor"]["name"]) for r in found] == [("read", "etl")] * 2
    assert found[0]["actor"]["id"].startswith("hmac-sha256:")
    code, out, _ = run(capsys, "audit", "ls", "--denied", "--json")
    assert [r["actor"]["name"] for r in json.loads(out)] == ["intruder"]
    code, out, _ = run(capsys, "audit", "ls", "--action", "write", "--ref",
                       "secret/warehouse", "--since", "1d", "--json")
    assert [r["action"] for r in json.loads(out)] == ["write"]
    code, out, _ = run(capsys, "audit", "ls", "--ref", "secret/other", "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "audit", "ls", "--since", "yesterday")
    assert code == 1 and "--since" in err and "30d" in err


def test_who_read_counts_identities(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "who-read", "secret/warehouse", "--since", "30d")
    assert code == 0
    rows = [line.split()[:2] for line in out.splitlines()[1:]]
    assert rows[0] == ["token:etl", "2"] and rows[1][1] == "1" and len(rows) == 2
    code, out, _ = run(capsys, "audit", "who-read", "secret/warehouse", "--json")
    assert {r["identity"]: r["count"] for r in json.loads(out)}["token:etl"] == 2


def test_verify_and_prune(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "verify")
    assert code == 0 and "ok" in err and "5 audit record(s)" in err
    code, _, err = run(capsys, "audit", "prune", "--before", "2000-01-01")
    assert code == 0 and "pruned 0" in err
    code, out, _ = run(capsys, "audit", "prune", "--before", "2999-01-01", "--json")
    assert json.loads(out) == {"pruned": 6}  # and the record of the first prune
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert json.loads(out)["ok"] is True and code == 0


def test_hash_reads_standard_input_only(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "hash", stdin="tok-9\n")
    assert code == 0
    digest = out.strip()
    assert digest.startswith("hmac-sha256:") and len(digest) == 12 + 64
    code, out, _ = run(capsys, "audit", "ls", "--actor", digest, "--json")
    assert [r["actor"]["name"] for r in json.loads(out)] == ["etl", "etl"]
    code, out, err = run(capsys, "audit", "hash", "tok-9")
    assert code == 1 and "standard input" in err and "tok-9" not in out + err
    code, _, err = run(capsys, "audit", "hash", stdin="")
    assert code == 1 and "empty" in err


class _Sink:
    """A stdout that counts what it is given and keeps nothing."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass


def _fill(registry: Registry, count: int) -> None:
    writer, sealer = registry.store.writer, registry.sealer
    pending = audit_log.Pending("read", "blocks", "secret/warehouse",
                                Actor("token", "etl", None, "server"), registry._clock())
    with writer.transaction() as conn:
        audit_log.append(conn, writer, sealer, [pending.event()] * count, "read")


def _peak_of_export() -> tuple[int, int]:
    sink = _Sink()

    def export() -> None:
        with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
            assert main(["audit", "export", "--jsonl"]) == 0

    _, peak = peak_of(export)
    return sink.lines, peak


def test_export_streams_in_constant_memory(blocks_home: Path) -> None:
    registry = Registry(Settings(home=blocks_home))
    registry.init()
    _fill(registry, 1_000)
    small_lines, small_peak = _peak_of_export()
    _fill(registry, 9_000)
    large_lines, large_peak = _peak_of_export()
    registry.close()
    assert (small_lines, large_lines) == (1_000, 10_000)
    # ten times the records, not ten times the memory (a list of them would be)
    assert large_peak < small_peak * 2, (small_peak, large_peak)
