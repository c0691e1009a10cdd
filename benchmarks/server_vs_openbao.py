"""`blocks server` against OpenBao (issue 20, "Speed"). Run by hand from the repository root:
``.venv/bin/python benchmarks/server_vs_openbao.py [--seconds 10] [--concurrency 1,4]``
(``--workers 2``: the SQLite server with two worker processes, ``--reuse-port`` with a socket
of its own each; ``--no-audit``: the server without the audit of requests; ``--peer-audit``:
OpenBao with a file audit device, like for like; ``--tool wrk``: wrk instead of hey;
``--pin``: the load generator on one core, the servers on the other).

Starts, on 127.0.0.1 at free ports, ``bao server -dev`` with one KV v2 secret and a
``blocks server run`` over SQLite with one ``Secret`` block, and drives both with the same load
generator (``hey`` or ``wrk``, from Debian's packages: ``apt-get install -y hey wrk``) at the same
concurrency (each level of ``--concurrency``), one after the other, so a change of machine
load hits them alike. Prints, with
the load average:

* OpenBao KV v2 read: p50 and requests/s;
* the server's full GET of the block (what ``X.load`` asks for): p50 and requests/s;
* the revalidated GET (``If-None-Match`` with the block's ETag -> 304): p50;
* the client's opt-in cached load (``Secret.load`` with ``BLOCKS_API_CACHE_SECONDS``, timed in
  Python): p50 in ms;
* two replicas over PostgreSQL vs one (requests/s ratio; each replica gets half the load).

Targets (PASS/FAIL): server p50 <= 1.5x OpenBao p50; server req/s >= 0.5x OpenBao; 304 p50 <=
0.7x full p50; cached load p50 <= 0.05 ms; two replicas >= 1.6x one, or the reason (CPU).
Not a unit test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import (  # noqa: E402
    HOST,
    Server,
    ServerUnavailable,
    find_binary,
    free_port,
    running,
    start_openbao,
)

SECRET_NAME = "bench"  # noqa: S105 (a block name)
VALUE = "s3cr3t-benchmark-value-0123456789"
PG_BASE = os.environ.get("BLOCKS_TEST_POSTGRES_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Figures:
    """What one run of the load generator measured."""

    p50_ms: float
    rps: float
    statuses: dict[str, int]

    def __str__(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return f"p50 {self.p50_ms:.2f} ms, {self.rps:,.0f} req/s ({codes})"


LOAD_CPU = os.environ.get("BLOCKS_BENCH_LOAD_CPU", "1")
SERVER_CPU = os.environ.get("BLOCKS_BENCH_SERVER_CPU", "0")


@dataclass(frozen=True)
class Generator:
    """The load generator: ``hey`` or ``wrk`` (both from Debian's packages), optionally pinned
    to one core (``taskset``) with the servers on the other."""

    tool: str = "hey"
    pin: bool = False

    def argv(self, url: str, headers: dict[str, str], seconds: float,
             concurrency: int) -> list[str]:
        prefix = ["taskset", "-c", LOAD_CPU] if self.pin else []
        flags = [part for k, v in headers.items() for part in ("-H", f"{k}: {v}")]
        if self.tool == "wrk":
            threads = str(min(concurrency, 2))
            return [*prefix, shutil.which("wrk") or "wrk", "-t", threads, "-c", str(concurrency),
                    # wrk reads whole seconds only ("3.3s" is an error)
                    "-d", f"{max(1, round(seconds))}s", "--latency", *flags, url]
        return [*prefix, shutil.which("hey") or "hey", "-z", f"{seconds:g}s", "-c",
                str(concurrency), *flags, url]

    def parse(self, out: str, url: str) -> Figures:
        if self.tool == "wrk":
            p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            total = re.search(r"(\d+) requests in", out)
            if p50 is None or rps is None or total is None:
                raise RuntimeError(f"wrk printed no figures for {url}:\n{out[-2000:]}")
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
            bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
            errors = int(bad.group(1)) if bad else 0
            statuses = {"2xx/3xx": int(total.group(1)) - errors}
            if errors:
                statuses["other"] = errors
            return Figures(float(p50.group(1)) * scale, float(rps.group(1)), statuses)
        p50 = re.search(r"50%+ in ([\d.]+) secs", out)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if p50 is None or rps is None:
            raise RuntimeError(f"hey printed no figures for {url}:\n{out[-2000:]}")
        found = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
        return Figures(float(p50.group(1)) * 1000, float(rps.group(1)),
                       {k: int(v) for k, v in found.items()})

    def run(self, url: str, headers: dict[str, str], seconds: float,
            concurrency: int) -> Figures:
        """One run on ``url``: its p50, requests/s and status counts."""
        argv = self.argv(url, headers, seconds, concurrency)
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return self.parse(out, url)

    def parallel(self, urls: list[str], headers: dict[str, str], seconds: float,
                 concurrency: int) -> float:
        """One run per URL at once, ``concurrency`` split between them; total requests/s."""
        share = max(1, concurrency // len(urls))
        procs = [subprocess.Popen(self.argv(url, headers, seconds, share),
                                  stdout=subprocess.PIPE, text=True) for url in urls]
        total = 0.0
        for proc, url in zip(procs, urls, strict=True):
            out, _ = proc.communicate()
            total += self.parse(out, url).rps
        return total


GEN = Generator()


def measure(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Figures:
    """The chosen generator's run (``--tool``; hey by default) on ``url``."""
    return GEN.run(url, headers, seconds, concurrency)


def measure_parallel(urls: list[str], headers: dict[str, str], seconds: float,
                 concurrency: int) -> float:
    """The chosen generator on several URLs at once; total requests/s."""
    return GEN.parallel(urls, headers, seconds, concurrency)


def pin_server(pid: int) -> None:
    """Pin a server process and its threads to ``SERVER_CPU`` (``--pin``)."""
    if GEN.pin:
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(pid)],
                       capture_output=True, check=True)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def blocks_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKS_")}
    env["BLOCKS_HOME"] = str(home)
    if database_url:
        env["BLOCKS_DATABASE_URL"] = database_url
    return env


def blocks_cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run([find_binary("blocks"), *argv], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"blocks {' '.join(argv)} exited {done.returncode}:\n"
                           f"{done.stdout}{done.stderr}")
    return done.stdout


TOKEN_RE = re.compile(r"\b(blk_[A-Za-z0-9_\-]{20,}|[A-Za-z0-9_\-]{40,})\b")


def prepare_registry(home: Path, database_url: str | None) -> str:
    """A registry with ``secret/bench``; the admin token ``blocks server init`` printed."""
    from blocks import Registry, Secret, Settings

    settings = Settings(home=home, database_url=database_url) if database_url else \
        Settings(home=home)
    registry = Registry(settings)
    registry.init()
    Secret(value=VALUE).save(SECRET_NAME, overwrite=True, registry=registry)
    registry.close()
    out = blocks_cli(blocks_env(home, database_url), "server", "init")
    found = TOKEN_RE.search(out)
    if found is None:
        raise RuntimeError("`blocks server init` printed no token")
    return found.group(1)


@dataclass(frozen=True)
class Variant:
    """How the measured server runs: ``blocks server run`` itself (by default), or the same
    start-up without the audit of requests (``--no-audit``)."""

    audit: bool = True
    reuse_port: bool = False

    def argv(self, port: int, workers: int) -> list[str]:
        flags = ["--reuse-port"] if self.reuse_port else []
        if self.audit:
            return [find_binary("blocks"), "server", "run", "--host", HOST, "--port", str(port),
                    "--workers", str(workers), *flags]
        return [sys.executable, __file__, "--serve", str(port), "--workers", str(workers),
                "--no-audit", *flags]


VARIANT = Variant()


def serve(port: int, workers: int) -> None:
    """``--serve``: ``blocks server run``'s start-up without the audit of requests."""
    from blocks.server.runner import ServeOptions
    from blocks.server.runner import serve as run

    run(ServeOptions(host=HOST, port=port, workers=workers, reuse_port=VARIANT.reuse_port),
        record_requests=VARIANT.audit)


@contextmanager
def blocks_server(home: Path, database_url: str | None = None, workers: int = 1
                  ) -> Iterator[str]:
    """``blocks server run`` on a free loopback port (``--workers``); its base URL until the
    block ends."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    log = (home / f"server-{port}.log").open("wb")
    # Same session as OpenBao and hey: with the kernel's autogroup scheduling, a process in a
    # session of its own competes with every other session on the machine for CPU time, and
    # on a shared machine the server then measured 3-5x slower than the same server here.
    pin = ["taskset", "-c", SERVER_CPU] if GEN.pin else []
    proc = subprocess.Popen([*pin, *VARIANT.argv(port, workers)],
                            env=blocks_env(home, database_url),
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerUnavailable(f"blocks server run did not answer on {url} "
                                        f"(log {log.name})")
            try:
                if httpx.get(f"{url}/v1/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def block_url(base: str) -> str:
    return f"{base}/v1/blocks/secret/{SECRET_NAME}"


def etag_of(url: str, token: str) -> str:
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    etag = response.headers.get("ETag")
    if not etag:
        raise RuntimeError(f"GET {url} answered without an ETag")
    return str(etag)


def openbao_url(bao_url: str, token: str) -> str:
    """Write one KV v2 secret into the dev server's ``secret/`` mount; its read URL."""
    httpx.post(f"{bao_url}/v1/secret/data/{SECRET_NAME}", json={"data": {"value": VALUE}},
               headers={"X-Vault-Token": token}, timeout=10).raise_for_status()
    return f"{bao_url}/v1/secret/data/{SECRET_NAME}"


def audited_openbao(workdir: Path) -> Server:
    """``bao server -dev`` with a file audit device writing into ``workdir`` (``--peer-audit``)."""
    return start_openbao(workdir, audit_file=workdir / "audit.log")


def check_audit_device(bao_url: str, token: str) -> None:
    """Refuse to measure unless OpenBao lists a file audit device (``--peer-audit``)."""
    found = httpx.get(f"{bao_url}/v1/sys/audit", headers={"X-Vault-Token": token},
                      timeout=10).json().get("data") or {}
    if not any(device.get("type") == "file" for device in found.values()):
        raise RuntimeError(f"OpenBao lists no file audit device: {sorted(found)}")


def cached_load_p50(base: str, token: str, n: int = 20000) -> float:
    """p50 in ms of ``Secret.load`` through the server with BLOCKS_API_CACHE_SECONDS=300."""
    from blocks import Secret, Settings
    from blocks.registry_protocol import open_registry

    registry = open_registry(Settings(api_url=base, api_token=token,
                                      api_cache_seconds=300))
    Secret.load(SECRET_NAME, registry=registry)  # fills the cache
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        Secret.load(SECRET_NAME, registry=registry)
        times.append(time.perf_counter() - t0)
    registry.close()
    return statistics.median(times) * 1000


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def compare(bao_read: str, bao_token: str, url: str, token: str, etag: str,
            seconds: float, conc: int, rounds: int = 1) -> None:
    """OpenBao's read, the full GET and the revalidated GET in turn at concurrency ``conc``,
    ``rounds`` times (each run ``seconds / rounds``); the verdicts take the median of the
    rounds' ratios, so a burst of load from elsewhere hits one round's three runs, not one
    peer's whole figure."""
    auth = {"Authorization": f"Bearer {token}"}
    share = seconds / rounds
    p50s, rpss, revs = [], [], []
    print(f"-- concurrency {conc} (load average {load_average()})")
    for index in range(rounds):
        bao_f = measure(bao_read, {"X-Vault-Token": bao_token}, share, conc)
        full = measure(url, auth, share, conc)
        revalidated = measure(url, {**auth, "If-None-Match": etag}, share, conc)
        label = f" (round {index + 1})" if rounds > 1 else ""
        print(f"OpenBao KV v2 read{label:12} {bao_f}")
        print(f"server GET (full load){label:8} {full}")
        print(f"server GET, If-None-Match{label:5} {revalidated}")
        p50s.append(full.p50_ms / bao_f.p50_ms)
        rpss.append(full.rps / bao_f.rps)
        revs.append(revalidated.p50_ms / full.p50_ms)
    p50_ratio, rps_ratio, rev_ratio = (statistics.median(x) for x in (p50s, rpss, revs))
    many = f" (median of {rounds}: {min(p50s):.2f}-{max(p50s):.2f})" if rounds > 1 else ""
    print(f"{verdict(p50_ratio <= 1.5)}  server p50 / OpenBao p50 = {p50_ratio:.2f}{many} "
          "(target <= 1.5)")
    many = f" (median of {rounds}: {min(rpss):.2f}-{max(rpss):.2f})" if rounds > 1 else ""
    print(f"{verdict(rps_ratio >= 0.5)}  server req/s / OpenBao req/s = {rps_ratio:.2f}{many} "
          "(target >= 0.5)")
    many = f" (median of {rounds}: {min(revs):.2f}-{max(revs):.2f})" if rounds > 1 else ""
    print(f"{verdict(rev_ratio <= 0.7)}  304 p50 / full p50 = {rev_ratio:.2f}{many} "
          "(target <= 0.7)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each run (default 10)")
    parser.add_argument("--concurrency", default="1,4",
                        help="connections, comma-separated for several runs (default 1,4)")
    parser.add_argument("--workers", type=int, default=1,
                        help="blocks server run --workers for the SQLite server (default 1; "
                             "it only reads here: more than 1 in production means PostgreSQL)")
    parser.add_argument("--no-replicas", action="store_true",
                        help="skip the PostgreSQL replicas measurement")
    parser.add_argument("--tool", choices=("hey", "wrk"), default="hey",
                        help="the load generator for every figure (default hey; wrk reports "
                             "latencies in microseconds, hey in tenths of a millisecond)")
    parser.add_argument("--pin", action="store_true",
                        help=f"pin the load generator to CPU {LOAD_CPU} and the servers to CPU "
                             f"{SERVER_CPU} (taskset; BLOCKS_BENCH_LOAD_CPU / "
                             "BLOCKS_BENCH_SERVER_CPU): is the generator starving the server?")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the three runs this many times, each --seconds/rounds "
                             "long; the verdicts take the median ratio (default 1)")
    parser.add_argument("--no-audit", action="store_true",
                        help="the server without the audit of requests (what the audit costs: "
                             "benchmarks/audit_throughput.py)")
    parser.add_argument("--reuse-port", action="store_true",
                        help="with --workers: blocks server run --reuse-port (a SO_REUSEPORT "
                             "socket per worker instead of one shared socket)")
    parser.add_argument("--peer-audit", action="store_true",
                        help="OpenBao with a file audit device (every request and response "
                             "logged, as the server records every request): like for like; "
                             "the targets name the dev server without one")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global GEN, VARIANT
    GEN = Generator(args.tool, args.pin)
    VARIANT = Variant(audit=not args.no_audit, reuse_port=args.reuse_port)
    if args.serve:
        serve(args.serve, args.workers)
        return 0
    if shutil.which(args.tool) is None:
        print(f"{args.tool} is not installed: apt-get install -y {args.tool}", file=sys.stderr)
        return 2
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"== cores {os.cpu_count()}, load average {load_average()}, {args.tool}"
          f"{' (pinned)' if args.pin else ''} {args.seconds:g}s per figure, concurrency "
          f"{', '.join(map(str, levels))}, "
          f"server workers {args.workers}{' (--reuse-port)' if VARIANT.reuse_port else ''}, "
          f"audit of requests {'on' if VARIANT.audit else 'off'}, OpenBao audit device "
          f"{'file' if args.peer_audit else 'none (dev server)'}")
    with tempfile.TemporaryDirectory(prefix="blocks-bench-") as tmp, \
            running(audited_openbao if args.peer_audit else start_openbao) as bao:
        home = Path(tmp) / "sqlite"
        token = prepare_registry(home, None)
        bao_token = bao.extra["token"]
        if bao.process is not None:
            pin_server(bao.process.pid)
        bao_read = openbao_url(bao.url, bao_token)
        if args.peer_audit:
            check_audit_device(bao.url, bao_token)
        with blocks_server(home, workers=args.workers) as base:
            url = block_url(base)
            etag = etag_of(url, token)
            measure(bao_read, {"X-Vault-Token": bao_token}, 2, max(levels))  # warm-up
            measure(url, {"Authorization": f"Bearer {token}"}, 2, max(levels))
            for conc in levels:
                compare(bao_read, bao_token, url, token, etag, args.seconds, conc,
                        args.rounds)
            cached = cached_load_p50(base, token)
        print(f"cached Secret.load (client, BLOCKS_API_CACHE_SECONDS=300)  p50 {cached:.4f} ms")
        print(f"{verdict(cached <= 0.05)}  cached load p50 = {cached:.4f} ms (target <= 0.05)")
        if not args.no_replicas:
            replicas(Path(tmp) / "pg", args.seconds, max(levels))
    print(f"== load average at the end {load_average()}")
    return 0


def replicas(home: Path, seconds: float, conc: int) -> None:
    """One replica vs two over one PostgreSQL schema, the same total concurrency."""
    from tests.registry_fixtures import drop_schema, new_schema_url

    url, schema = new_schema_url(PG_BASE)
    try:
        token = prepare_registry(home, url)
        auth = {"Authorization": f"Bearer {token}"}
        with blocks_server(home, url) as one, blocks_server(home, url) as two:
            for base in (one, two):
                measure(block_url(base), auth, 2, conc)
            single = measure_parallel([block_url(one)], auth, seconds, conc)
            double = measure_parallel([block_url(one), block_url(two)], auth, seconds, conc)
        ratio = double / single
        print(f"PostgreSQL, one replica       {single:,.0f} req/s")
        print(f"PostgreSQL, two replicas      {double:,.0f} req/s (ratio {ratio:.2f})")
        cores = os.cpu_count() or 1
        if ratio >= 1.6:
            print(f"PASS  two replicas / one = {ratio:.2f} (target >= 1.6)")
        else:
            print(f"{'FAIL' if cores >= 4 else 'N/A '}  two replicas / one = {ratio:.2f} "
                  f"(target >= 1.6 where CPU allows): {cores} cores shared by the two "
                  f"replicas, PostgreSQL and hey itself, load average {load_average()}; "
                  "one replica already keeps a core busy, so a second can add at most the "
                  "CPU left over")
    finally:
        drop_schema(PG_BASE, schema)


if __name__ == "__main__":
    sys.exit(main())
