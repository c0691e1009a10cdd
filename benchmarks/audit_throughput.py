"""What recording every request costs the server (issue 21): the GET of a block with the audit
trail on (every request appends a sealed record before it answers) against the same server
with it off, in the same run, with the same load generator. Run by hand from the repository
root: ``.venv/bin/python benchmarks/audit_throughput.py [--seconds 5] [--rounds 3]
[--concurrency 1,4] [--tool hey|wrk]``.

Starts two server processes on 127.0.0.1 over one SQLite registry holding one ``Secret``
block: ``blocks server``'s application as ``blocks server run`` serves it (access log, uvicorn
options, HTTP protocol), one with the audit trail and one built with
``create_app(..., record_requests=False)`` (which nothing but this measurement uses). Each
round measures off then on at each concurrency; the ratio printed is the median over rounds of
on/off requests/s (target >= 0.8), with p50s and the load average. Each figure also gives the
server process's CPU time per request (from ``/proc``: what the audit costs, less sensitive to
a busy machine than requests/s). Also prints how many records the run appended.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from server_vs_openbao import (  # noqa: E402
    Generator,
    blocks_env,
    load_average,
    prepare_registry,
)

from tests.servers import HOST, ServerUnavailable, free_port  # noqa: E402


def serve(port: int, record: bool) -> None:
    """The server process: the app of ``blocks server run``, with or without the audit."""
    import uvicorn

    from blocks import Registry, Settings
    from blocks.server import access_log
    from blocks.server.app import create_app
    from blocks.server.runner import ServeOptions, _uvicorn_options

    access_log.configure(sys.stdout)
    registry = Registry(Settings())
    app = access_log.AccessLog(create_app(registry, record_requests=record))
    options = _uvicorn_options(ServeOptions(host=HOST, port=port))
    try:
        uvicorn.Server(uvicorn.Config(app, **options)).run()
    finally:
        registry.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(home: Path, record: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://{HOST}:{port}"
    log = (home / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port),
                             "--record" if record else "--no-record"],
                            env=blocks_env(home), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerUnavailable(f"the server did not answer on {url} (log {log.name})")
            try:
                if httpx.get(f"{url}/v1/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def count_records(home: Path) -> tuple[int, int]:
    """The registry's audit records and chain events (``blocks audit verify``)."""
    from blocks import Registry, Settings

    registry = Registry(Settings(home=home))
    try:
        report = registry.audit.verify()
        return report.records, report.events
    finally:
        registry.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="off/on rounds (default 3)")
    parser.add_argument("--concurrency", default="1,4", help="connections (default 1,4)")
    parser.add_argument("--tool", choices=("hey", "wrk"), default="hey")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=True,
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.record)
        return 0
    gen = Generator(args.tool)
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"== cores {os.cpu_count()}, load average {load_average()}, {args.tool} "
          f"{args.seconds:g}s per figure, {args.rounds} rounds, concurrency "
          f"{', '.join(map(str, levels))}")
    with tempfile.TemporaryDirectory(prefix="blocks-audit-bench-") as tmp:
        home = Path(tmp)
        token = prepare_registry(home, None)
        auth = {"Authorization": f"Bearer {token}"}
        with server(home, False) as (off, off_pid), server(home, True) as (on, on_pid):
            for base in (off, on):
                gen.run(f"{base}/v1/blocks/secret/bench", auth, 2, max(levels))  # warm-up
            before = count_records(home)[0]
            requests_on = 0

            def measure(base: str, pid: int, conc: int) -> tuple[Any, float]:
                start = cpu_seconds(pid)
                figure = gen.run(f"{base}/v1/blocks/secret/bench", auth, args.seconds, conc)
                spent = cpu_seconds(pid) - start
                return figure, spent / max(1, sum(figure.statuses.values())) * 1e6

            for conc in levels:
                ratios, rows = [], []
                for _ in range(args.rounds):
                    f_off, cpu_off = measure(off, off_pid, conc)
                    f_on, cpu_on = measure(on, on_pid, conc)
                    requests_on += sum(f_on.statuses.values())
                    rows.append((f_off, cpu_off, f_on, cpu_on))
                    ratios.append(f_on.rps / f_off.rps)
                ratio = statistics.median(ratios)
                print(f"-- concurrency {conc} (load average {load_average()})")
                for i, (a, cpu_a, b, cpu_b) in enumerate(rows):
                    print(f"round {i + 1}: audit off {a}, {cpu_a:.0f} us CPU/request; audit on "
                          f"{b}, {cpu_b:.0f} us CPU/request; on/off {ratios[i]:.2f}")
                cpu_ratio = statistics.median(r[1] / r[3] for r in rows)
                print(f"{'PASS' if ratio >= 0.8 else 'FAIL'}  audit on / audit off req/s = "
                      f"{ratio:.2f} (median of {len(ratios)}; target >= 0.8); server CPU per "
                      f"request off/on = {cpu_ratio:.2f}")
        after = count_records(home)[0]
        print(f"records appended by the audited server: {after - before:,} for "
              f"{requests_on:,} measured requests (plus the warm-up)")
    print(f"== load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
