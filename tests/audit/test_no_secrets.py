"""No secret value in any audit record or export, for every secret the tests save here:
each type with secret fields, through every recorded operation, reads on (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blocks import Registry
from blocks.audit_actor import Actor, acting_as
from blocks.cli.main import main
from blocks.settings import Settings

SECRETS = {
    "secret": {"value": "plain-secret-value-3f9a"},
    "aws-credentials": {"aws_access_key_id": "AKIAAUDITTEST0000001",
                        "aws_secret_access_key": "aws-secret-key-audit-77b2c",
                        "aws_session_token": "aws-session-token-audit-e41"},
    "database-credentials": {"driver": "postgresql+psycopg", "username": "etl",
                             "password": "db-password-audit-5c0d", "host": "db.internal",
                             "database": "warehouse"},
    "github-credentials": {"token": "ghp_audittesttoken000000000000000000000"},
}
VALUES = [v for doc in SECRETS.values() for k, v in doc.items()
          if k not in ("driver", "username", "host", "database")]


@pytest.fixture
def saved(blocks_home: Path) -> Registry:
    registry = Registry(Settings(home=blocks_home, audit_reads=True))
    token_id = "token-id-secret-in-hash-only-91"
    with acting_as(Actor("token", "etl", token_id, "server", "10.0.0.1", "req-1")):
        for slug, doc in SECRETS.items():
            block = registry.parse(slug, doc)
            block.save("warehouse", registry=registry)
            block.save("warehouse", registry=registry, overwrite=True)
            ref = f"{slug}/warehouse"
            registry.load(ref)
            registry.history(ref)
            registry.rollback(ref, 1)
            registry.purge(ref, 2)
            registry.rename(ref, "wh")
            registry.delete(f"{slug}/wh")
            registry.undelete(f"{slug}/wh")
        registry.list()
    VALUES.append(token_id)
    return registry


def test_no_secret_in_records_or_export(saved: Registry, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    records = [e.to_json() for e in saved.audit.ls(oldest_first=True)]
    assert len(records) > 30
    stored = "\n".join(r[0] for r in saved.store._fetchall("SELECT body FROM event_log", ()))
    stored += "\n".join(r[0] for r in saved.store._fetchall("SELECT actor FROM event_log", ()))
    saved.close()
    assert main(["audit", "export", "--jsonl"]) == 0
    assert main(["audit", "ls", "--json", "--limit", "0"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) > 30
    for text in (json.dumps(records), stored, out, err):
        for value in VALUES:
            assert value not in text, f"a secret value is in the audit trail: {value[:6]}..."
