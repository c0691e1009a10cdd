"""The recovery window through a real ``blocks server`` with real tokens: delete into the
window, the deleted list (filtered), undelete, ``gc`` (dry run too) answer as a local registry
does, with the same errors; each needs its capability (403 otherwise); and ``blocks rm``,
``rm --undo``, ``rm --list-deleted``, ``ls --deleted`` and ``blocks gc`` work in a subprocess
that has only BLOCKS_API_URL and BLOCKS_API_TOKEN (``blocks backup``/``restore`` refuse, saying
where to run them)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Secret, Settings
from blocks.access import policies
from blocks.access.store import AccessStore
from blocks.errors import BlockNotFound, ConflictError, Forbidden, InvalidArgument
from blocks.remote.registry import RemoteRegistry
from blocks.server.app import create_app
from blocks.server.auth import TokenAuthenticator
from blocks.verify import verify
from tests.access.helpers import Clock
from tests.cli_process import run_cli
from tests.core.models import TestCreds, TestService
from tests.server_fixtures import remote_settings, serve_app

SECRET = "recovery-over-http-secret-5be1"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def served(blocks_home: Path, clock: Clock) -> Iterator[Registry]:
    """The server's registry, on a clock the test moves (``gc`` finds blocks due)."""
    reg = Registry(Settings(home=blocks_home / "server"), clock=clock)
    reg.init()
    yield reg
    reg.close()


@pytest.fixture
def access(served: Registry) -> AccessStore:
    return AccessStore(served.store, served.sealer)


@pytest.fixture
def url(served: Registry, access: AccessStore) -> Iterator[str]:
    authenticator = TokenAuthenticator(served, access=access)
    with serve_app(create_app(served, authenticator=authenticator)) as base:
        yield base


def token_with(access: AccessStore, name: str, document: dict[str, Any]) -> str:
    access.put_policy(name, policies.parse(name, document))
    token, _ = access.create_token(name, [name])
    return token


@pytest.fixture
def admin(url: str, access: AccessStore) -> Iterator[RemoteRegistry]:
    remote = RemoteRegistry(remote_settings(
        url, token_with(access, "root", {"admin": True})))
    yield remote
    remote.close()


def error_of(call: Any) -> BaseException:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def test_delete_undelete_and_gc_through_the_server_as_locally(
        admin: RemoteRegistry, served: Registry, clock: Clock) -> None:
    Secret(value="one").save("api", registry=admin)
    Secret(value=SECRET).save("api", registry=admin, overwrite=True)
    block_id = admin.summary("secret/api").id
    assert admin.recovery_window() == timedelta(days=7)
    admin.delete("secret/api")
    [deleted] = admin.deleted()
    assert deleted == served.deleted()[0]
    assert (deleted.ref, deleted.id) == ("secret/api", block_id)
    assert deleted.shred_after - deleted.deleted_at == timedelta(days=7)
    assert admin.deleted("secret") == [deleted] and admin.deleted("test-creds") == []
    assert admin.deleted_refs() == ["secret/api"]
    gone = error_of(lambda: admin.load("secret/api"))
    local = error_of(lambda: served.load("secret/api"))
    assert type(gone) is type(local) is BlockNotFound and str(gone) == str(local)
    assert "'blocks rm --undo secret/api' brings it back" in str(gone)
    assert admin.list() == []

    back = admin.undelete("secret/api")
    assert (back.id, back.current_version) == (block_id, 2)
    assert admin.load("secret/api").get() == SECRET
    assert [v.version for v in admin.history("secret/api")] == [1, 2]
    again, local = (error_of(lambda r=r: r.undelete("secret/api")) for r in (admin, served))
    assert type(again) is type(local) is BlockNotFound and str(again) == str(local)

    admin.delete("secret/api", recovery_window="1h")
    [soon] = admin.deleted()
    assert soon.shred_after - soon.deleted_at == timedelta(hours=1)
    assert admin.gc(dry_run=True).due == [] and admin.gc().shredded == []
    clock.advance(hours=2)
    dry = admin.gc(dry_run=True)
    assert dry.due == [soon] and dry.shredded == [] and admin.deleted() == [soon]
    done = admin.gc()
    assert done.shredded == [soon] and done.waiting == [] and admin.deleted() == []
    shredded = error_of(lambda: admin.undelete("secret/api"))
    assert isinstance(shredded, BlockNotFound)
    assert "a shredded block cannot be brought back" in str(shredded)

    Secret(value="x").save("now", registry=admin)
    admin.delete("secret/now", recovery_window=0)  # shredded at once: nothing to undo
    assert admin.deleted() == [] and served.list() == []
    assert verify(served).ok, verify(served).problems


def test_bad_windows_and_refused_undos_are_the_local_errors(
        admin: RemoteRegistry, served: Registry) -> None:
    Secret(value="x").save("api", registry=admin)
    for window in ("8w", "31d", -1):
        remote = error_of(lambda w=window: admin.delete("secret/api", recovery_window=w))
        local = error_of(lambda w=window: served.delete("secret/api", recovery_window=w))
        assert type(remote) is type(local) is InvalidArgument and str(remote) == str(local)
    # A window the client did not check (a raw request) is refused by the server alike.
    raw = error_of(lambda: admin.transport.request(
        "DELETE", "/v1/blocks/secret/api", params={"recovery_window": "99d"}, idempotent=False))
    assert isinstance(raw, InvalidArgument) and "invalid recovery window '99d'" in str(raw)
    assert admin.summary("secret/api").current_version == 1

    creds = TestCreds(user="bob", password="pw")
    creds.save("db", registry=admin)
    TestService(url="https://x", creds=admin.load("test-creds/db")).save("svc", registry=admin)
    admin.delete("test-service/svc")
    admin.delete("test-creds/db")
    refused = error_of(lambda: admin.undelete("test-service/svc"))
    assert isinstance(refused, ConflictError)
    assert "cannot bring back test-service/svc: it references test-creds/db (deleted" in \
        str(refused)
    admin.undelete("test-creds/db")
    admin.undelete("test-service/svc")
    assert admin.load("test-service/svc").creds.user == "bob"


def test_each_recovery_call_needs_its_capability(
        url: str, access: AccessStore, served: Registry) -> None:
    for name in ("app-a", "app-b", "admin"):
        Secret(value="v").save(name, registry=served)
    served.delete("secret/admin")
    reader = RemoteRegistry(remote_settings(url, token_with(
        access, "reader", {"blocks": {"secret/app-*": ["read-metadata"]}})))
    deleter = RemoteRegistry(remote_settings(url, token_with(
        access, "deleter", {"blocks": {"secret/app-*": ["delete"]}})))
    try:
        with pytest.raises(Forbidden, match="token 'reader' lacks the 'delete' capability on "
                                            "block 'secret/app-a'"):
            reader.delete("secret/app-a", recovery_window="1d")
        deleter.delete("secret/app-a", recovery_window="1d")
        with pytest.raises(Forbidden, match="'delete' capability on block 'secret/app-a'"):
            reader.undelete("secret/app-a")
        with pytest.raises(Forbidden, match="'delete' capability on block 'secret/admin'"):
            deleter.undelete("secret/admin")
        # The list shows what the token may read-metadata (delete alone does not show it).
        assert [d.ref for d in reader.deleted()] == ["secret/app-a"]
        assert reader.deleted_refs() == ["secret/app-a"]
        assert deleter.deleted() == []
        for who in (reader, deleter):
            with pytest.raises(Forbidden, match="lacks the 'admin' capability"):
                who.gc()
            with pytest.raises(Forbidden, match="'admin' capability"):
                who.gc(dry_run=True)
        assert deleter.undelete("secret/app-a").ref == "secret/app-a"
        assert sorted(d.ref for d in served.deleted()) == ["secret/admin"]
    finally:
        reader.close()
        deleter.close()


def blocks_cli(env: dict[str, str], *argv: str, ok: bool = True
               ) -> subprocess.CompletedProcess[str]:
    done = run_cli(argv, env=env, timeout=120)
    assert SECRET not in done.stdout + done.stderr
    assert env["BLOCKS_API_TOKEN"] not in done.stdout + done.stderr
    if ok:
        assert done.returncode == 0, (argv, done.stderr)
    return done


@pytest.fixture
def cli_env(tmp_path: Path, url: str, access: AccessStore) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BLOCKS_", "VAULT_", "AWS_"))}
    env.update(HOME=str(tmp_path / "client"), BLOCKS_HOME=str(tmp_path / "client" / ".blocks"),
               BLOCKS_API_URL=url,
               BLOCKS_API_TOKEN=token_with(access, "ops", {"admin": True}))
    return env


@pytest.mark.slow
def test_rm_undo_list_and_gc_on_the_command_line_through_the_server(
        cli_env: dict[str, str], served: Registry, clock: Clock, tmp_path: Path) -> None:
    Secret(value=SECRET).save("api", registry=served)
    Secret(value="other").save("old", registry=served)
    block_id = served.summary("secret/api").id
    done = json.loads(blocks_cli(cli_env, "rm", "secret/api", "--yes", "--json").stdout)
    assert done["deleted"] == "secret/api" and done["shred_after"]
    assert served.list("secret")[0].ref == "secret/old"
    listed = json.loads(blocks_cli(cli_env, "rm", "--list-deleted", "--json").stdout)
    assert [(d["ref"], d["id"]) for d in listed] == [("secret/api", block_id)]
    assert json.loads(blocks_cli(cli_env, "ls", "--deleted", "--json").stdout) == listed
    again = blocks_cli(cli_env, "rm", "secret/api", "--yes", ok=False)
    assert again.returncode == 1 and "'blocks rm --undo secret/api' brings it back" in \
        again.stderr
    undone = blocks_cli(cli_env, "rm", "--undo", "secret/api")
    assert "brought back secret/api (version 1, same id)" in undone.stderr
    assert served.load("secret/api").get() == SECRET

    blocks_cli(cli_env, "rm", "secret/old", "--recovery-window", "1h", "--yes")
    nothing = blocks_cli(cli_env, "gc", "--dry-run")
    assert "gc --dry-run: 0 deleted block(s) due" in nothing.stderr
    clock.advance(hours=2)
    due = json.loads(blocks_cli(cli_env, "gc", "--dry-run", "--json").stdout)
    assert [d["ref"] for d in due["due"]] == ["secret/old"]
    assert [d.ref for d in served.deleted()] == ["secret/old"]
    shredded = json.loads(blocks_cli(cli_env, "gc", "--json").stdout)
    assert [d["ref"] for d in shredded["shredded"]] == ["secret/old"]
    assert shredded["waiting"] == [] and served.deleted() == []

    blocks_cli(cli_env, "rm", "secret/api", "--yes")
    now = blocks_cli(cli_env, "rm", "secret/api", "--now", "--yes")  # shreds the waiting one
    assert "deleted secret/api (shredded)" in now.stderr
    assert served.deleted() == [] and served.list() == []
    assert not (tmp_path / "client").exists()  # no database, no key on the client

    bad = blocks_cli(cli_env, "rm", "secret/x", "--recovery-window", "9w", "--yes", ok=False)
    assert bad.returncode != 0 and "invalid recovery window '9w'" in bad.stderr


@pytest.mark.slow
def test_backup_and_restore_refuse_a_server_and_say_where_to_run_them(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "pass").write_text("correct horse battery staple\n")
    target = tmp_path / "out.bkp"
    for command in ("backup", "restore"):
        refused = blocks_cli(cli_env, command, str(target), "--passphrase-file",
                             str(tmp_path / "pass"), ok=False)
        assert refused.returncode == 1, refused.stderr
        assert f"blocks {command} does not go through a blocks server" in refused.stderr
        assert "run it where the registry is (BLOCKS_HOME or BLOCKS_DATABASE_URL, without " \
               "BLOCKS_API_URL)" in refused.stderr
    assert not target.exists() and not (tmp_path / "client").exists()
