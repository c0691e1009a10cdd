"""Backups carry the blocks server's API tokens and access policies and the recovery window's
schedule, re-sealed under the target's keys: after a restore into PostgreSQL the token printed
before the backup still authenticates against a real server over the restored registry (a
revoked one still does not), the policies are equal, and a block deleted within its window can
be brought back (through that server) with its id and history; ``blocks verify`` is clean."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from blocks import Registry, Secret
from blocks.access.store import AccessStore
from blocks.cli.main import main
from blocks.errors import IntegrityError, Unauthorized
from blocks.remote.registry import RemoteRegistry
from blocks.verify import verify
from tests.backup.helpers import new_registry, read_backup, write_backup
from tests.server_fixtures import remote_settings, serve
from tests.store.tamper import tamper

KEPT = "kept-secret-value-0123456789"
DELETED = "deleted-secret-value-0123456789"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    Registry.reset_default()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def source_with_tokens(reg: Registry, capsys: pytest.CaptureFixture[str],
                       tmp_path: Path) -> tuple[str, str]:
    """Blocks, a block in its window, two policies, a live and a revoked token (made with the
    CLI, which prints each token once); returns the two tokens."""
    Secret(value=KEPT).save("app-db", registry=reg)
    Secret(value="first-0123456789").save("app-old", registry=reg)
    Secret(value=DELETED).save("app-old", registry=reg, overwrite=True)
    reg.delete("secret/app-old", recovery_window="5d")
    reg.close()
    (tmp_path / "reader.json").write_text(json.dumps(
        {"blocks": {"secret/app-*": ["read", "delete"]}}))
    (tmp_path / "ops.json").write_text(json.dumps({"admin": True}))
    cli(capsys, "policies", "put", "reader", "--file", str(tmp_path / "reader.json"))
    cli(capsys, "policies", "put", "ops", "--file", str(tmp_path / "ops.json"))
    live = json.loads(cli(capsys, "tokens", "create", "ci", "--policy", "reader",
                          "--ttl", "30d", "--json"))["token"]
    revoked = json.loads(cli(capsys, "tokens", "create", "old-ci", "--policy", "reader",
                             "--json"))["token"]
    cli(capsys, "tokens", "revoke", "old-ci", "--yes")
    Registry.reset_default()
    return live, revoked


@pytest.mark.postgres
def test_tokens_policies_and_the_recovery_window_survive_a_restore_into_postgres(
    sqlite_registry: Registry, pg_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    live, revoked = source_with_tokens(sqlite_registry, capsys, tmp_path)
    source = AccessStore(sqlite_registry.store, sqlite_registry.sealer)
    policies, tokens = source.policies(), source.list_tokens()
    [deleted] = sqlite_registry.deleted()
    old_id = deleted.id
    made = write_backup(sqlite_registry, tmp_path / "b.bkp")
    assert (made.counts["access-policy"], made.counts["api-token"], made.counts["deletion"]) \
        == (2, 2, 1)
    assert made.counts["block"] == 2 and made.counts["version"] == 3

    target = new_registry(tmp_path / "pg-home", pg_url)
    try:
        with caplog.at_level(logging.DEBUG):
            done = read_backup(target, tmp_path / "b.bkp")
        assert done.counts == {k: v for k, v in made.counts.items() if v}
        assert live not in caplog.text and revoked not in caplog.text
        report = verify(target)
        assert report.ok, report.problems
        restored = AccessStore(target.store, target.sealer)
        assert restored.policies() == policies
        assert [(t.id, t.name, t.policies, t.expires_at, t.revoked_at) for t in
                restored.list_tokens()] == [(t.id, t.name, t.policies, t.expires_at,
                                             t.revoked_at) for t in tokens]
        assert target.deleted() == [deleted]  # same id, name and shred date
        assert deleted.shred_after - deleted.deleted_at == timedelta(days=5)

        with serve(target) as url:  # the server's own token authenticator: deny by default
            remote = RemoteRegistry(remote_settings(url, live))
            gone = RemoteRegistry(remote_settings(url, revoked))
            try:
                assert remote.load("secret/app-db").get() == KEPT
                assert [d.ref for d in remote.deleted()] == ["secret/app-old"]
                back = remote.undelete("secret/app-old")
                assert (back.id, back.current_version) == (old_id, 2)
                assert remote.load("secret/app-old").get() == DELETED
                assert [v.version for v in remote.history("secret/app-old")] == [1, 2]
                with pytest.raises(Unauthorized):
                    gone.list()
            finally:
                remote.close()
                gone.close()
        report = verify(target)
        assert report.ok, report.problems
    finally:
        target.close()


@pytest.mark.parametrize(("statement", "named"), [
    ("UPDATE api_token SET policies = '[\"ops\"]' WHERE name = 'ci'", "API token 'ci'"),
    ("UPDATE access_policy SET document = '{\"admin\": true}' WHERE name = 'reader'",
     "access policy 'reader'"),
    ("UPDATE block_deletion SET shred_after = '2099-01-01 00:00:00.000000'",
     "secret/app-old (scheduled deletion)"),
])
def test_a_widened_token_or_policy_or_a_moved_shred_date_is_not_backed_up(
    sqlite_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    statement: str, named: str,
) -> None:
    source_with_tokens(sqlite_registry, capsys, tmp_path)
    tamper(sqlite_registry.store.url, statement)
    with pytest.raises(IntegrityError) as refused:
        write_backup(sqlite_registry, tmp_path / "b.bkp")
    assert named in str(refused.value)


def test_the_command_says_what_of_the_server_and_the_window_it_carried(
    sqlite_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    live, _ = source_with_tokens(sqlite_registry, capsys, tmp_path)
    (tmp_path / "pass").write_text("correct horse battery staple\n")
    Registry.reset_default()
    assert main(["backup", str(tmp_path / "b.bkp"), "--passphrase-file",
                 str(tmp_path / "pass")]) == 0
    out, err = capsys.readouterr()
    # the events are the audit trail's records of the saves, the delete and the access changes
    assert re.search(r"backed up 2 blocks \(3 versions\), 0 pools \(0 versions\), 0 queues, "
                     r"0 rotation policies, \d+ events, 0 mirrors, 1 deleted block\(s\) in "
                     r"their recovery window, 2 access policies, 2 API tokens to ", err), err
    assert live not in out + err
