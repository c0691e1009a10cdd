"""The audit trail (issue 21). Run by hand: ``.venv/bin/python benchmarks/audit_bench.py``.

Prints, for 10,000 audit records (``--records``) in an embedded SQLite registry: the time to
append them one transaction each (as reads are recorded), the time of ``blocks audit
verify`` over the whole chain (the issue asks under 2 s), the time of ``audit export`` to
nowhere, and a local ``load`` p50 with and without ``BLOCKS_AUDIT_READS``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Secret, Settings
from blocks.audit_actor import Actor
from blocks.store import audit_log


def _p50(registry: Registry, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        registry.load("secret/warehouse")
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        registry = Registry(Settings(home=Path(home)))
        registry.init()
        Secret(value="bench").save("warehouse", registry=registry)
        writer, sealer = registry.store.writer, registry.sealer
        actor = Actor("token", "bench", None, "server")
        started = time.perf_counter()
        for _ in range(args.records):
            pending = audit_log.Pending("read", "blocks", "secret/warehouse", actor,
                                        registry._clock())
            audit_log.write_now(writer, sealer, pending)
        append = time.perf_counter() - started
        print(f"append {args.records} records (one transaction each): {append:.2f} s "
              f"({append / args.records * 1e6:.0f} us each)")
        report = registry.audit.verify()
        assert report.ok, report.problems
        print(f"blocks audit verify: {report.events} events in {report.seconds:.3f} s "
              f"(target < 2 s)")
        started = time.perf_counter()
        count = sum(1 for _ in registry.audit.ls(oldest_first=True))
        print(f"export (read + authenticate) {count} records: "
              f"{time.perf_counter() - started:.2f} s")
        plain = _p50(registry, 2_000)
        registry.audit.reads = True
        audited = _p50(registry, 2_000)
        print(f"local load p50: {plain:.0f} us without, {audited:.0f} us with "
              f"BLOCKS_AUDIT_READS=1 ({audited / plain:.1f}x)")
        registry.close()


if __name__ == "__main__":
    main()
