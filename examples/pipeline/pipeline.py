"""The seed pipeline in plain Python: extract -> transform -> load, with blocks from the registry.

Extract reads ``raw/orders.csv`` through the ``S3Bucket`` block, transform sums the orders per
customer, load writes the totals as rows through the ``DatabaseCredentials`` block and a small
report object back to the bucket. No Prefect needed: ``flow.py`` runs the same three functions
as Prefect tasks.

Run it against your own registry (``BLOCKS_HOME`` or ``BLOCKS_DATABASE_URL`` as for the CLI)::

    python examples/pipeline/pipeline.py --bucket lake --database warehouse --run-label manual
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from blocks import DatabaseCredentials, S3Bucket

SOURCE = "raw/orders.csv"


def extract(bucket: str) -> list[dict[str, str]]:
    """The order rows of ``raw/orders.csv`` in the bucket block ``bucket``."""
    body = S3Bucket.load(bucket).read_path(SOURCE).decode()
    return list(csv.DictReader(io.StringIO(body)))


def transform(orders: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Orders -> one row per customer: number of orders and total amount (cents)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        entry = totals[order["customer"]]
        entry[0] += 1
        entry[1] += round(float(order["amount"]) * 100)
    return [{"customer": c, "orders": n, "amount_cents": cents}
            for c, (n, cents) in sorted(totals.items())]


def load(rows: list[dict[str, Any]], database: str, bucket: str, run_label: str) -> dict[str, Any]:
    """Write ``rows`` (tagged ``run_label``) through the database block, then a report object.

    Returns what was done: rows written, the report's key, the database role that wrote them.
    """
    engine = DatabaseCredentials.load(database).get_engine()
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS customer_totals (run_label "
                              "VARCHAR(64), customer VARCHAR(64), orders INTEGER, "
                              "amount_cents INTEGER)"))
            conn.execute(text("DELETE FROM customer_totals WHERE run_label = :run"),
                         {"run": run_label})
            conn.execute(text("INSERT INTO customer_totals VALUES (:run, :customer, :orders, "
                              ":amount_cents)"), [{"run": run_label, **row} for row in rows])
            written = conn.execute(text("SELECT count(*) FROM customer_totals "
                                        "WHERE run_label = :run"), {"run": run_label}).scalar_one()
            role = (conn.execute(text("SELECT current_user")).scalar_one()
                    if engine.dialect.name == "postgresql" else "(sqlite: no roles)")
    finally:
        engine.dispose()
    report = {"run_label": run_label, "rows": written, "database_role": role,
              "at": datetime.now(UTC).isoformat(timespec="seconds")}
    key = f"reports/{run_label}.json"
    S3Bucket.load(bucket).write_path(key, json.dumps(report, sort_keys=True).encode())
    return {**report, "report_key": key}


def run(bucket: str, database: str, run_label: str) -> dict[str, Any]:
    """The whole pipeline, in plain Python."""
    return load(transform(extract(bucket)), database, bucket, run_label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bucket", default="lake", help="s3-bucket block name")
    parser.add_argument("--database", default="warehouse", help="database-credentials block")
    parser.add_argument("--run-label", default="manual", help="tag of the rows written")
    args = parser.parse_args()
    print(json.dumps(run(args.bucket, args.database, args.run_label), sort_keys=True))


if __name__ == "__main__":
    main()
