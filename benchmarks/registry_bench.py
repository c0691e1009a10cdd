"""Registry benchmark (issues 2, 13). Run: ``.venv/bin/python benchmarks/registry_bench.py``.

Prints ``load`` p50/p95 with N blocks stored on SQLite and PostgreSQL, ``save`` p50, and the
wall time of a fresh process that imports blocks and loads one Secret. Floors measured in the
same run, on the same database file:

- load floor: one raw sqlite3 point read of the same row + two AES-GCM opens + one pydantic
  validation of the same type;
- save floor: a raw sqlite3 compare-and-set (BEGIN IMMEDIATE, read the head, insert the
  version, move the head, COMMIT).

Targets: load p50 <= 5x its floor, save p50 <= 5x its floor; fresh import + first load <= 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from blocks import Registry, Secret, Settings

PG_URL = os.environ.get("BLOCKS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fill(reg: Registry, n: int) -> list[str]:
    names = [f"b-{i:05d}" for i in range(n)]
    for name in names:
        reg.save(Secret(value=secrets.token_urlsafe(24)), name)
    return names


def bench_loads(reg: Registry, names: list[str], samples: int) -> tuple[float, float]:
    picks = [random.choice(names) for _ in range(samples)]
    for name in picks[:200]:
        reg.load(f"secret/{name}")
    times = []
    clock = time.perf_counter
    for name in picks:
        ref = f"secret/{name}"
        t0 = clock()
        reg.load(ref)
        times.append(clock() - t0)
    return pct(times, 0.5) * 1e3, pct(times, 0.95) * 1e3


def bench_saves(reg: Registry, samples: int) -> float:
    times = []
    for i in range(samples):
        block = Secret(value=f"v-{i}")
        t0 = time.perf_counter()
        reg.save(block, "save-bench", overwrite=True)
        times.append(time.perf_counter() - t0)
    return pct(times, 0.5) * 1e3


def bench_creates(reg: Registry, samples: int) -> float:
    """p50 of a save that creates a new block (it also updates its type's sealed census)."""
    times = []
    for i in range(samples):
        block = Secret(value=f"c-{i}")
        t0 = time.perf_counter()
        reg.save(block, f"create-bench-{i}")
        times.append(time.perf_counter() - t0)
    return pct(times, 0.5) * 1e3


def load_floor(db: Path, names: list[str], samples: int) -> float:
    """p50 of one point read + two AES-GCM opens + one pydantic validation (ms)."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    sql = ("SELECT b.id, b.type_slug, b.name, v.version, b.current_version, v.term, "
           "v.wrapped_key, v.ciphertext FROM block b JOIN block_version v ON v.block_id = b.id "
           "WHERE b.type_slug = ? AND b.name = ? AND v.version = b.current_version")
    key, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    wrapped = key.encrypt(nonce, os.urandom(32), b"aad-of-a-data-key")
    blob = key.encrypt(nonce, b'{"value":"' + secrets.token_urlsafe(24).encode() + b'"}', b"aad")
    picks = [random.choice(names) for _ in range(samples)]
    times = []
    clock = time.perf_counter
    for name in picks:
        t0 = clock()
        conn.execute(sql, ("secret", name)).fetchone()
        AESGCM(key.decrypt(nonce, wrapped, b"aad-of-a-data-key"))
        plain = key.decrypt(nonce, blob, b"aad")
        Secret.model_validate_json(plain)
        times.append(clock() - t0)
    conn.close()
    return pct(times, 0.5) * 1e3


def save_floor(db: Path, samples: int) -> float:
    """p50 of a raw sqlite3 compare-and-set on the registry's own tables (ms)."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous = NORMAL")
    block_id = "floor-" + secrets.token_hex(8)
    now = "2026-01-01 00:00:00"
    conn.execute("INSERT INTO block (id, type_slug, name, current_version, created_at, "
                 "updated_at) VALUES (?, 'floor', 'floor', 0, ?, ?)", (block_id, now, now))
    payload = os.urandom(120)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        _, current = conn.execute(
            "SELECT id, current_version FROM block WHERE type_slug = ? AND name = ?",
            ("floor", "floor"),
        ).fetchone()
        conn.execute(
            "INSERT INTO block_version (block_id, version, term, wrapped_key, ciphertext, "
            "schema_checksum, schema_version, note, created_at) "
            "VALUES (?, ?, 1, ?, ?, 'x', '1', NULL, ?)",
            (block_id, current + 1, payload[:60], payload, now),
        )
        conn.execute("UPDATE block SET current_version = ?, updated_at = ? "
                     "WHERE id = ? AND current_version = ?", (current + 1, now, block_id, current))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t0)
    conn.execute("DELETE FROM block WHERE id = ?", (block_id,))
    conn.close()
    return pct(times, 0.5) * 1e3


def fresh_process(home: Path, runs: int) -> float:
    env = {**os.environ, "BLOCKS_HOME": str(home)}
    code = "from blocks import Secret; Secret.load('x')"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        reg = Registry(Settings(home=home))
        names = fill(reg, args.blocks)
        db = home / "blocks.db"
        p50, p95 = bench_loads(reg, names, args.samples)
        floor = load_floor(db, names, args.samples)
        print(f"sqlite   load p50 {p50:.4f} ms  p95 {p95:.4f} ms  ({args.blocks} blocks)")
        print(f"sqlite   load floor p50 {floor:.4f} ms  -> load is {p50 / floor:.1f}x its floor "
              "(target <= 5x)")
        save = bench_saves(reg, 1000)
        sfloor = save_floor(db, 1000)
        print(f"sqlite   save p50 {save:.4f} ms")
        print(f"sqlite   create p50 {bench_creates(reg, 1000):.4f} ms")
        print(f"sqlite   save floor p50 {sfloor:.4f} ms  -> save is {save / sfloor:.1f}x its floor "
              "(target <= 5x)")
        reg.save(Secret(value="fresh"), "x")
        reg.close()
        print(f"fresh process import + first load: {fresh_process(home, 7) * 1e3:.0f} ms (median)")
        if not args.skip_postgres:
            import psycopg

            schema = f"bench_{secrets.token_hex(4)}"
            plain = PG_URL.replace("+psycopg", "")
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                pg = Registry(Settings(home=home, database_url=url))
                names = fill(pg, args.blocks)
                p50, p95 = bench_loads(pg, names, args.samples)
                print(f"postgres load p50 {p50:.4f} ms  p95 {p95:.4f} ms  ({args.blocks} blocks)")
                print(f"postgres save p50 {bench_saves(pg, 300):.4f} ms")
                print(f"postgres create p50 {bench_creates(pg, 300):.4f} ms")
                pg.close()
            finally:
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
