"""Tampered columns end in DecryptionError or IntegrityError, never echoing stored bytes."""

from __future__ import annotations

import os

import pytest

from blocks import Registry, Secret
from blocks.errors import DecryptionError, IntegrityError
from tests.store.tamper import tamper

SECRET = "tamper-secret-0c0d"
MARK = "zz-stored-bytes-zz"
BOTH = [
    ("UPDATE block_version SET version = version + 10", "load", IntegrityError),
    ("UPDATE block_version SET version = version + 10", "history", IntegrityError),
    ("UPDATE block_version SET wrapped_key = ?", "load", DecryptionError),
    ("UPDATE block_version SET term = 99", "load", DecryptionError),
    ("UPDATE block_version SET ciphertext = ?", "load", DecryptionError),
    ("UPDATE block SET head_mac = ?", "load", IntegrityError),
    ("UPDATE block SET stages = '{\"current\":1,\"pending\":1}'", "load", IntegrityError),
]
SQLITE_ONLY = [  # SQLite stores any type in any column; PostgreSQL refuses these writes
    (f"UPDATE block_version SET version = '{MARK}'", "load", IntegrityError),
    (f"UPDATE block_version SET wrapped_key = '{MARK}'", "load", DecryptionError),
    (f"UPDATE block_version SET term = '{MARK}'", "load", DecryptionError),
    (f"UPDATE block_version SET created_at = '{MARK}'", "history", IntegrityError),
    (f"UPDATE block SET created_at = '{MARK}'", "list", IntegrityError),
    (f"UPDATE block SET head_mac = '{MARK}'", "load", IntegrityError),
    (f"UPDATE block SET current_version = '{MARK}'", "load", IntegrityError),
    (f"UPDATE keyring_term SET created_at = '{MARK}'", "fresh-load", IntegrityError),
]


def attack(registry: Registry, statement: str, action: str, error: type[Exception]) -> None:
    Secret(value=SECRET).save("s", registry=registry)
    params = (os.urandom(60),) if "?" in statement else ()
    tamper(registry.store.url, statement, *params)
    run = {
        "load": lambda: registry.load("secret/s"),
        "history": lambda: registry.history("secret/s"),
        "list": lambda: registry.list(),
        "fresh-load": lambda: Registry(registry.settings).load("secret/s"),
    }[action]
    with pytest.raises(error) as info:
        run()
    assert MARK not in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize(("statement", "action", "error"), BOTH)
def test_tampered_column(
    registry: Registry, statement: str, action: str, error: type[Exception]
) -> None:
    attack(registry, statement, action, error)


@pytest.mark.parametrize(("statement", "action", "error"), SQLITE_ONLY)
def test_tampered_column_types(
    sqlite_registry: Registry, statement: str, action: str, error: type[Exception]
) -> None:
    attack(sqlite_registry, statement, action, error)
