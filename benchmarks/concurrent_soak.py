"""Many kinds of work at once through two ``blocks server`` replicas, then count what failed.
Run by hand from the repository root: ``.venv/bin/python benchmarks/concurrent_soak.py
[--seconds 20] [--sqlite]``.

Two replicas over one PostgreSQL schema (``--sqlite``: over one SQLite file), each with the
audit of requests on, while threads of one client process, each with its own work, run for
``--seconds``: compare-and-set saves of three blocks through each replica, history, list and
load readers, work pool updates through each replica and pool readers, API tokens created, used
through the other replica and revoked, blocks deleted and brought back, listings of tokens,
policies, deleted blocks and the audit trail, and ``blocks verify`` plus ``blocks audit
verify`` in a loop beside them; wrk keeps GETs of one block going on each replica.

Prints the operations done per kind, wrk's requests/s and non-2xx/3xx answers, and every error
that is not the expected compare-and-set conflict, grouped. Exits 1 if there is one, or if the
final ``blocks verify`` finds a problem: a read that checks rows against their sealed census or
head must never mistake another replica's commit for tampering.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from server_vs_openbao import (  # noqa: E402
    PG_BASE,
    block_url,
    blocks_cli,
    blocks_env,
    blocks_server,
    prepare_registry,
)

from tests.servers import find_binary  # noqa: E402

Work = Callable[[int], None]


class Tally:
    """Operations done and unexpected errors, per kind of work (shared by the threads)."""

    def __init__(self) -> None:
        self.done: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def run(self, name: str, work: Work, seconds: float) -> None:
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            try:
                work(i)
                key = None
            except Exception as exc:  # every unexpected error is counted, by kind and text
                key = f"{name}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            with self._lock:
                if key is None:
                    self.done[name] += 1
                else:
                    self.errors[key] += 1
            i += 1


def workload(one: str, two: str, token: str, env: dict[str, str]) -> dict[str, Work]:
    """Each kind of work, as a function of its iteration number."""
    from blocks import Secret, Settings
    from blocks.access.policies import parse
    from blocks.errors import ConflictError
    from blocks.pools.models import WorkPool
    from blocks.registry_protocol import open_registry

    first, second = (open_registry(Settings(api_url=u, api_token=token)) for u in (one, two))
    Secret(value="seed").save("s0", registry=first)
    WorkPool(name="soak", type="process").save(registry=first)
    first.access().put_policy("reader", parse("reader", {"blocks": {"secret/*": ["read"]}}))

    def saves(reg: Any) -> Work:
        def work(i: int) -> None:
            with contextlib.suppress(ConflictError):  # the other replica's writer won
                Secret(value=f"v{i}").save(f"s{i % 3}", overwrite=True, registry=reg)
        return work

    def pool_updates(reg: Any) -> Work:
        def work(i: int) -> None:
            pool = WorkPool.load("soak", registry=reg)
            pool.description = f"round {i}"
            with contextlib.suppress(ConflictError):
                pool.save(registry=reg)
        return work

    def tokens(i: int) -> None:
        made, _ = first.access().create_token(f"soak-{i}", ["reader"])
        user = open_registry(Settings(api_url=two if i % 2 else one, api_token=made))
        user.load("secret/s0")
        first.access().revoke(f"soak-{i}")

    def deletes(i: int) -> None:
        Secret(value="x").save(f"gone-{i}", registry=second)
        second.delete(f"secret/gone-{i}")
        if i % 2:
            second.undelete(f"secret/gone-{i}")

    def listings(reg: Any) -> Work:
        def work(i: int) -> None:
            reg.deleted()
            reg.access().list_tokens()
            reg.access().policies()
            reg.audit.ls(ref="secret/s0", since="1d")
            reg.audit.who_read("secret/s0")
            reg.stages(f"secret/s{i % 3}")
        return work

    from blocks.rotation_types.policy import RotationPolicy

    Secret(value="r").save("rotated", registry=first)
    first.rotation().set_policy("secret/rotated", RotationPolicy(
        rotator="generated", interval="1d", options={"length": 24}))

    def rotations(reg: Any) -> Work:
        def work(i: int) -> None:
            with contextlib.suppress(ConflictError):  # the other replica's rotation is on
                reg.rotation().rotate("secret/rotated", force=True)
            reg.rotation().events("secret/rotated")
            reg.rotation().listing()
            reg.load("secret/rotated", stage="current")
        return work

    def renames(i: int) -> None:
        Secret(value="n").save(f"named-{i}", registry=second)
        second.rename(f"secret/named-{i}", f"renamed-{i}")
        second.load(f"secret/renamed-{i}")
        Secret(value="n2").save(f"renamed-{i}", overwrite=True, registry=second)
        second.rollback(f"secret/renamed-{i}", 1)

    def verifies(i: int) -> None:
        blocks_cli(env, "verify")
        blocks_cli(env, "audit", "verify")

    return {
        "save via 1": saves(first), "save via 2": saves(second),
        "history": lambda i: second.history(f"secret/s{i % 3}"),
        "list": lambda i: first.list("secret"),
        "load": lambda i: second.load(f"secret/s{i % 3}"),
        "pool via 1": pool_updates(first), "pool via 2": pool_updates(second),
        "pool reads": lambda i: (WorkPool.load("soak", registry=second),
                                 WorkPool.history("soak", registry=second),
                                 WorkPool.list_pools(registry=second)),
        "tokens": tokens, "delete/undo": deletes,
        "listings via 1": listings(first), "listings via 2": listings(second),
        "verify": verifies,
        "rotate via 1": rotations(first), "rotate via 2": rotations(second),
        "rename/rollback": renames,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long (default 20)")
    parser.add_argument("--sqlite", action="store_true",
                        help="two replicas over one SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    from tests.registry_fixtures import drop_schema, new_schema_url

    url, schema = (None, None) if args.sqlite else new_schema_url(PG_BASE)
    tally = Tally()
    try:
        with tempfile.TemporaryDirectory(prefix="blocks-soak-") as tmp:
            home = Path(tmp)
            token = prepare_registry(home, url)
            env = blocks_env(home, url)
            with blocks_server(home, url) as one, blocks_server(home, url) as two:
                work = workload(one, two, token, env)
                gets = [subprocess.Popen(
                    ["wrk", "-t1", "-c2", f"-d{max(1, int(args.seconds))}s", "-H",
                     f"Authorization: Bearer {token}", block_url(base)],
                    stdout=subprocess.PIPE, text=True) for base in (one, two)]
                threads = [threading.Thread(target=tally.run, args=(name, job, args.seconds))
                           for name, job in work.items()]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                print(f"== {'SQLite' if args.sqlite else 'PostgreSQL'}, two replicas, "
                      f"{args.seconds:g} s")
                for replica, proc in enumerate(gets, 1):
                    lines = proc.communicate()[0].splitlines()
                    print(f"wrk GETs via {replica}: " + "; ".join(
                        line.strip() for line in lines
                        if "Requests/sec" in line or "Non-2xx" in line or "Socket" in line))
                    for line in lines:
                        if "Non-2xx" in line or "Socket errors" in line:
                            tally.errors[f"wrk via {replica}: {line.strip()}"] += 1
            print("done: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.done.items())))
            final = subprocess.run([find_binary("blocks"), "verify"], env=env,
                                   capture_output=True, text=True, check=False)
            said = (final.stdout + final.stderr).strip().splitlines()
            print(f"final blocks verify: exit {final.returncode}: {said[-1] if said else ''}")
    finally:
        if schema is not None:
            drop_schema(PG_BASE, schema)
    for key, count in tally.errors.most_common():
        print(f"ERROR x{count}  {key}")
    failed = bool(tally.errors) or final.returncode != 0
    print("FAIL" if failed else "PASS  no error but compare-and-set conflicts")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
