"""Issue 17, point 5: what shreds on PostgreSQL (docs/shredding.md).

``keys purge`` and ``rm`` delete the wrapped data keys, but PostgreSQL keeps the bytes: VACUUM
does not zero pages, and the WAL (so WAL archives, replicas and base backups) holds every row
ever written. A copy taken before (rows as a backup or ``pg_dump`` has them, and the WAL
segments) still opens with the master key. The procedure -- ``keys rotate``, ``rewrap``,
``retire`` of the old term, ``rotate-master`` to a new master key, old key destroyed -- makes
that copy useless: with the current master key, none of it decrypts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from blocks import Registry, Secret, Settings
from blocks.cli.main import main
from blocks.crypto import envelope
from blocks.crypto.keyring import data_key_binding, term_context
from blocks.errors import DecryptionError
from blocks.key_management import KeyManager
from blocks.keys.base import KeyProvider
from blocks.keys.local import LocalKeyProvider

pytestmark = pytest.mark.postgres

OLD, CURRENT, GONE = "old-value-7c1f", "current-value-52ad", "deleted-value-e90b"


@dataclass(frozen=True)
class VersionCopy:
    block_id: str
    type_slug: str
    name: str
    version: int
    term: int
    wrapped_key: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Backup:
    """The registry's rows as a backup (or ``pg_dump`` of its schema) holds them."""

    terms: dict[int, bytes]
    versions: list[VersionCopy]

    def version(self, name: str, number: int) -> VersionCopy:
        return next(v for v in self.versions if (v.name, v.version) == (name, number))


def _connect(url: str) -> psycopg.Connection:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(plain, autocommit=True)


def _backup(url: str) -> Backup:
    with _connect(url) as conn:
        terms = {t: bytes(k) for t, k in conn.execute(
            "SELECT term, wrapped_key FROM keyring_term").fetchall()}
        rows = conn.execute(
            "SELECT b.id, b.type_slug, b.name, v.version, v.term, v.wrapped_key, v.ciphertext "
            "FROM block_version v JOIN block b ON b.id = v.block_id").fetchall()
    return Backup(terms, [VersionCopy(i, s, n, v, t, bytes(k), bytes(c))
                          for i, s, n, v, t, k, c in rows])


def _wal_since(url: str, start_lsn: str) -> bytes:
    """The WAL segments written since ``start_lsn``, as an archive or a replica gets them,
    each page's header taken out so that a record split across two pages reads whole."""
    with _connect(url) as conn:
        conn.execute("SELECT pg_switch_wal()")  # close the segment, as archiving would
        page = int(conn.execute("SELECT current_setting('wal_block_size')").fetchone()[0])
        names = [n for (n,) in conn.execute(
            "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' "
            "AND name >= pg_walfile_name(%s::pg_lsn) ORDER BY name", (start_lsn,)).fetchall()]
        return b"".join(_records(bytes(conn.execute(
            "SELECT pg_read_binary_file(%s)", (f"pg_wal/{n}",)).fetchone()[0]), page)
            for n in names)


def _records(segment: bytes, page: int) -> bytes:
    """A WAL segment without its page headers (the first page's is the long one, 40 bytes;
    the others 24): the bytes of a row written across a page boundary become contiguous
    (CI once failed the check below on such a row)."""
    return b"".join(segment[at + (40 if at == 0 else 24):at + page]
                    for at in range(0, len(segment), page))


def _open(backup: Backup, row: VersionCopy, master_key: KeyProvider) -> str:
    """Decrypt a version from the copy alone, given a master key (the attacker's path)."""
    term_key = master_key.unwrap(backup.terms[row.term], term_context(row.term))
    aad = envelope.binding(row.block_id, row.type_slug, row.version)
    data_key = envelope.decrypt(term_key, row.wrapped_key, data_key_binding(row.term, aad))
    return str(json.loads(envelope.unseal(data_key, row.ciphertext, aad))["value"])


def test_new_master_key_after_rewrap_and_retire_shreds_what_wal_and_backups_keep(
    blocks_home: Path, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLOCKS_DATABASE_URL", pg_url)
    with _connect(pg_url) as conn:
        start_lsn = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])
    registry = Registry(Settings(home=blocks_home, database_url=pg_url))
    Secret(value=OLD).save("api", registry=registry)
    Secret(value=CURRENT).save("api", registry=registry, overwrite=True)
    Secret(value=GONE).save("gone", registry=registry)
    backup = _backup(pg_url)  # taken BEFORE the shredding: last night's backup
    # What a WAL archive or a replica has received by now (read before the checkpoint below,
    # after which PostgreSQL may recycle the segments and overwrite them).
    wal = _wal_since(pg_url, start_lsn)

    # What the README promised was enough: purge, rm, then CHECKPOINT and a plain VACUUM.
    KeyManager(registry).purge("secret/api", 1)
    registry.delete("secret/gone", recovery_window=0)
    registry.close()
    with _connect(pg_url) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("VACUUM block_version")
        conn.execute("VACUUM block")
    purged, deleted = backup.version("api", 1), backup.version("gone", 1)
    for row in (purged, deleted):
        assert row.wrapped_key in wal and row.ciphertext in wal  # archives/replicas keep them
    old_master = LocalKeyProvider.from_file(blocks_home / "master.key")
    assert _open(backup, purged, old_master) == OLD  # still opens with the master key
    assert _open(backup, deleted, old_master) == GONE
    assert backup.terms[1] in wal

    # The procedure that shreds (docs/shredding.md), through the CLI.
    new_key = tmp_path / "keys" / "master-2.key"
    for argv in (["keys", "rotate"], ["keys", "rewrap"], ["keys", "retire", "1", "--yes"],
                 ["keys", "rotate-master", "--to", f"local:{new_key}"]):
        assert main(argv) == 0, argv
    (blocks_home / "master.key").unlink()  # destroy the old master key
    monkeypatch.setenv("BLOCKS_MASTER_KEY_FILE", str(new_key))

    current_master = LocalKeyProvider.from_file(new_key)
    for row in backup.versions:  # the purged, the deleted and the then-current versions
        with pytest.raises(DecryptionError):
            _open(backup, row, current_master)
    with _connect(pg_url) as conn:
        assert conn.execute("SELECT array_agg(term) FROM keyring_term").fetchone()[0] == [2]
    # The registry itself lives on under the new key.
    Registry.reset_default()
    assert Secret.load("api").get() == CURRENT
    Registry.reset_default()
