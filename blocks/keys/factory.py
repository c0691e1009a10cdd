"""Build a :class:`~blocks.keys.base.KeyProvider` from settings or a ``PROVIDER:KEY`` spec.

Hazardous materials: low-level. The SDK of a remote provider is imported only when that provider
is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from blocks.errors import ConfigurationError, KeyProviderError
from blocks.keys.base import KeyProvider
from blocks.keys.local import LocalKeyProvider, decode_master_key
from blocks.settings import KeyProviderName, Settings

PROVIDER_NAMES: tuple[str, ...] = get_args(KeyProviderName)
SPEC_HELP = (
    "PROVIDER[:KEY] where PROVIDER is local, aws-kms or vault-transit; KEY is a key file path "
    "(local), a key id, alias/NAME or ARN (aws-kms), or [MOUNT/]KEY (vault-transit)"
)


@dataclass(frozen=True)
class ProviderSpec:
    """A provider named on the command line, e.g. ``aws-kms:alias/blocks``.

    Attributes:
        name: ``local``, ``aws-kms`` or ``vault-transit``.
        key: the key part after the first colon, or ``None`` to keep the configured key.
    """

    name: KeyProviderName
    key: str | None = None

    def __str__(self) -> str:
        return self.name if self.key is None else f"{self.name}:{self.key}"

    def apply(self, settings: Settings) -> Settings:
        """Settings that select this provider and key; addresses and credentials are kept.

        ``local:PATH`` selects that key file and ignores ``BLOCKS_MASTER_KEY``: a path given
        explicitly wins over the environment.
        """
        update: dict[str, Any] = {"key_provider": self.name}
        if self.key is not None:
            if self.name == "local":
                update["master_key_file"] = Path(self.key).expanduser()
                update["master_key"] = None
            elif self.name == "aws-kms":
                update["kms_key_id"] = self.key
            else:
                mount, _, key = self.key.strip("/").rpartition("/")
                update["vault_transit_key"] = key
                if mount:
                    update["vault_transit_mount"] = mount
        return settings.model_copy(update=update)


def parse_provider_spec(spec: str) -> ProviderSpec:
    """Parse ``local``, ``local:/path/key``, ``aws-kms:alias/x`` or ``vault-transit:transit/k``.

    Args:
        spec: the text given to ``--key-provider`` or ``rotate-master --to``.

    Returns:
        The provider name and optional key.

    Raises:
        ConfigurationError: unknown provider or empty key; the message gives the format.

    Example:
        >>> parse_provider_spec("vault-transit:transit/blocks")
        ProviderSpec(name='vault-transit', key='transit/blocks')
    """
    name, sep, key = spec.strip().partition(":")
    if name not in PROVIDER_NAMES:
        raise ConfigurationError(f"unknown key provider {name!r}; expected {SPEC_HELP}")
    if sep and not key.strip():
        raise ConfigurationError(f"empty key in {spec!r}; expected {SPEC_HELP}")
    return ProviderSpec(name, key.strip() if sep else None)  # type: ignore[arg-type]


def provider_from_settings(settings: Settings, *, create: bool = False) -> KeyProvider:
    """The master-key provider the settings select.

    Args:
        settings: ``key_provider`` and that provider's fields are read.
        create: make what a first ``blocks init`` needs: the local key file (mode 0600) or the
            Vault Transit key. AWS KMS keys are never created here; create them with Terraform
            or the AWS console and pass the id.

    Returns:
        A provider; no network call has been made yet unless ``create`` asked for one.

    Raises:
        ConfigurationError: a required setting is missing.
        KeyProviderError: the local key is missing or malformed, or creating the Vault key
            failed.
        MissingExtraError: the provider's SDK is not installed.
    """
    if settings.key_provider == "local":
        if settings.master_key is not None:
            try:
                key = decode_master_key(settings.master_key.get_secret_value())
            except ValueError as exc:
                raise KeyProviderError("local", "BLOCKS_MASTER_KEY", str(exc)) from None
            return LocalKeyProvider(key, source="BLOCKS_MASTER_KEY")
        return LocalKeyProvider.from_file(settings.resolved_master_key_file, create=create)
    if settings.key_provider == "aws-kms":
        if not settings.kms_key_id:
            raise ConfigurationError(
                "the aws-kms key provider needs BLOCKS_KMS_KEY_ID (key id, alias/NAME or ARN)"
            )
        from blocks.keys.aws_kms import AwsKmsKeyProvider

        return AwsKmsKeyProvider(
            settings.kms_key_id,
            region=settings.aws_region,
            endpoint_url=settings.kms_endpoint_url,
        )
    if not settings.vault_addr:
        raise ConfigurationError("the vault-transit key provider needs VAULT_ADDR")
    from blocks.keys.vault_transit import VaultTransitKeyProvider

    provider = VaultTransitKeyProvider(
        settings.vault_addr,
        settings.vault_transit_key,
        mount=settings.vault_transit_mount,
        token=settings.vault_token.get_secret_value() if settings.vault_token else None,
        role_id=settings.vault_role_id,
        secret_id=(
            settings.vault_secret_id.get_secret_value() if settings.vault_secret_id else None
        ),
        approle_mount=settings.vault_approle_mount,
        namespace=settings.vault_namespace,
    )
    if create:
        provider.ensure_key()
    return provider
