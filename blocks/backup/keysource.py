"""The key a backup is made or opened with: a passphrase file, or a key provider named on the
command line (never the registry's own master key: a backup must not be lost with it)."""

from __future__ import annotations

from pathlib import Path

from blocks.backup.container import BackupKey, Passphrase, ProviderKey
from blocks.errors import BackupError, ConfigurationError
from blocks.keys.base import KeyProvider
from blocks.keys.factory import ProviderSpec, provider_from_settings
from blocks.settings import Settings

MIN_PASSPHRASE = 12


def read_passphrase(path: str | Path, *, new: bool) -> Passphrase:
    """The passphrase in ``path`` (one trailing newline dropped).

    Args:
        new: a passphrase for a new backup must be at least ``MIN_PASSPHRASE`` characters.

    Raises:
        BackupError: unreadable, empty or (for a new backup) too short; names the file.
    """
    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise BackupError(f"--passphrase-file {path}: cannot read it ({exc.strerror})") from None
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    if not raw:
        raise BackupError(f"--passphrase-file {path} is empty; put the passphrase in it, e.g. "
                          "'openssl rand -base64 32 > FILE'")
    if new and len(raw) < MIN_PASSPHRASE:
        raise BackupError(f"--passphrase-file {path}: the passphrase is shorter than "
                          f"{MIN_PASSPHRASE} characters; use a longer one, e.g. "
                          "'openssl rand -base64 32 > FILE'")
    return Passphrase(raw)


def provider_key(spec: ProviderSpec, settings: Settings, *, new: bool) -> ProviderKey:
    """A key provider for the backup (``--backup-key PROVIDER:KEY``; addresses and credentials
    come from the settings, as for the master key). A new local key file is created for a new
    backup (mode 0600); keep it away from the registry's host."""
    if spec.key is None:
        raise ConfigurationError(
            f"--backup-key {spec}: name the key, e.g. aws-kms:alias/blocks-backup, "
            "vault-transit:transit/blocks-backup or local:/secure/backup.key (the registry's "
            "own master key is never used for its backups)")
    return ProviderKey(provider_from_settings(spec.apply(settings), create=new))


def refuse_master_key(key: BackupKey, master: KeyProvider) -> None:
    """Refuse a backup key that is the registry's own master key.

    Raises:
        ConfigurationError: names the key and why.
    """
    if isinstance(key, ProviderKey) and (key.provider.name, key.provider.key_id) == (
            master.name, master.key_id):
        raise ConfigurationError(
            f"--backup-key {master.name} {master.key_id} is the registry's own master key: a "
            "backup under it is lost with that key, and anyone who can open the registry opens "
            "its backups; use another key or --passphrase-file")
