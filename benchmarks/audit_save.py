"""What the audit record costs a plain local ``save`` (issue 21). Run by hand from the
repository root: ``.venv/bin/python benchmarks/audit_save.py [--saves 300] [--rounds 3]
[--postgres URL]``.

Times ``--saves`` saves of a ``Secret`` (overwrite, one block) in an embedded SQLite registry
and, when PostgreSQL answers (``BLOCKS_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), in a PostgreSQL registry: with the
audit record (the registry as shipped) and without it (the registry's ``_recording`` replaced
by a no-op, which nothing but this measurement does), one save of each in turn. Prints the
median time of a save of each and their ratio, per round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import Registry, Secret, Settings
from tests.registry_fixtures import drop_schema, new_schema_url

PG = os.environ.get("BLOCKS_TEST_POSTGRES_URL",
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _save(registry: Registry, name: str, i: int) -> float:
    started = time.perf_counter()
    Secret(value=f"v{i}").save(name, registry=registry, overwrite=True)
    return time.perf_counter() - started


def _unaudited(registry: Registry) -> None:
    def no_record(*args: Any, **kwargs: Any) -> Any:
        return nullcontext()

    registry._recording = no_record  # type: ignore[method-assign]


def measure(settings: Settings, count: int, rounds: int, label: str) -> None:
    audited = Registry(settings)
    audited.init()
    plain = Registry(settings)
    _unaudited(plain)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    for i in range(20):  # warm-up: keys unwrapped, statements prepared
        _save(audited, name, i)
        _save(plain, name, i)
    for r in range(rounds):
        offs, ons = [], []
        for i in range(count):  # alternating, so the machine's load hits both alike
            offs.append(_save(plain, name, i))
            ons.append(_save(audited, name, i))
        off, on = statistics.median(offs) * 1e6, statistics.median(ons) * 1e6
        print(f"{label} round {r + 1}: save p50 without the audit record {off:.0f} us, with "
              f"{on:.0f} us ({on / off:.2f}x, +{on - off:.0f} us)")
    audited.close()
    plain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=PG)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        measure(Settings(home=Path(home)), args.saves, args.rounds, "sqlite")
        try:
            url, schema = new_schema_url(args.postgres)
        except Exception as exc:  # no PostgreSQL here: SQLite's figures only
            print(f"postgresql: skipped ({type(exc).__name__})")
            return
        try:
            measure(Settings(home=Path(home) / "pg", database_url=url), args.saves,
                    args.rounds, "postgresql")
        finally:
            drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
