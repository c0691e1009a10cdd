"""Configuration from ``BLOCKS_*`` environment variables (pydantic-settings).

Every setting can also be passed explicitly: ``Settings(home=..., database_url=...)``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from blocks.errors import ConfigurationError

KeyProviderName = Literal["local", "aws-kms", "vault-transit"]
SUPPORTED_DATABASES = ("sqlite:///", "postgresql://", "postgres://", "postgresql+psycopg://")


class Settings(BaseSettings):
    """Where the registry lives and which master key protects it."""

    # validate_by_name: Settings(vault_addr=...) must win over VAULT_ADDR in the environment
    # (without it, keyword arguments of aliased fields are silently ignored).
    model_config = SettingsConfigDict(
        env_prefix="BLOCKS_", extra="ignore", frozen=True,
        validate_by_name=True, validate_by_alias=True,
    )

    home: Path = Field(
        default=Path("~/.blocks"),
        description="Directory for the embedded SQLite database and the local master key file.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
            "Default: sqlite:///<home>/blocks.db."
        ),
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = Field(
        default="NORMAL",
        description=(
            "SQLite synchronous pragma. NORMAL (default) is crash-safe in WAL mode and may "
            "lose the last commits on power loss; FULL fsyncs every commit."
        ),
    )
    key_provider: KeyProviderName = Field(
        default="local", description="Master-key provider: local, aws-kms or vault-transit."
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="local provider: base64 of 32 bytes; overrides the key file when set.",
    )
    master_key_file: Path | None = Field(
        default=None, description="local provider: key file path. Default: <home>/master.key."
    )
    keyring_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long a process keeps the unwrapped keyring in memory.",
    )
    kms_key_id: str | None = Field(
        default=None, description="aws-kms provider: key id, alias (alias/name) or ARN."
    )
    kms_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_KMS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS"),
        description="aws-kms provider: endpoint override (e.g. a local test server).",
    )
    aws_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="aws-kms provider: region.",
    )
    vault_addr: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_VAULT_ADDR", "VAULT_ADDR"),
        description="vault-transit provider: Vault/OpenBao address.",
    )
    vault_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_VAULT_TOKEN", "VAULT_TOKEN"),
        description="vault-transit provider: token (or use AppRole).",
    )
    vault_role_id: str | None = Field(
        default=None, description="vault-transit provider: AppRole role id."
    )
    vault_secret_id: SecretStr | None = Field(
        default=None, description="vault-transit provider: AppRole secret id."
    )
    vault_approle_mount: str = Field(default="approle", description="AppRole auth mount path.")
    vault_transit_mount: str = Field(default="transit", description="Transit engine mount path.")
    vault_transit_key: str = Field(default="blocks", description="Transit key name.")
    vault_namespace: str | None = Field(default=None, description="Vault Enterprise namespace.")
    recovery_window: str = Field(
        default="7d",
        description=(
            "How long a deleted block can be brought back ('blocks rm --undo') before "
            "'blocks gc' shreds it: 0 (shred at once) to 30d, e.g. 7d, 36h."
        ),
    )
    audit_reads: bool = Field(
        default=False,
        description=(
            "Record local reads (load, list, history) in the audit trail too; writes, "
            "rotations and deletes are always recorded ('blocks audit ls')."
        ),
    )
    prefect_api_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_PREFECT_API_URL", "PREFECT_API_URL"),
        description=(
            "Prefect bridge: the server's API URL, e.g. http://127.0.0.1:4200/api, or a Prefect "
            "Cloud workspace URL (https://…/api/accounts/<id>/workspaces/<id>)."
        ),
    )
    prefect_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_PREFECT_API_KEY", "PREFECT_API_KEY"),
        description="Prefect bridge: API key (Prefect Cloud), sent as a bearer token.",
    )
    prefect_api_auth_string: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BLOCKS_PREFECT_API_AUTH_STRING", "PREFECT_API_AUTH_STRING"),
        description=(
            "Prefect bridge: 'user:password' of a self-hosted server with basic auth on "
            "(its PREFECT_SERVER_API_AUTH_STRING), sent as HTTP basic auth; wins over the API key."
        ),
    )

    api_url: str | None = Field(
        default=None,
        description=(
            "URL of a blocks server (http://127.0.0.1:8200), or several comma-separated for "
            "fail-over: the client then talks to the server instead of a database, with no "
            "master key. Not together with BLOCKS_DATABASE_URL."
        ),
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token the client sends to the blocks server."
    )
    api_cache_seconds: float = Field(
        default=0.0,
        ge=0,
        description=(
            "How long the client serves a loaded block from memory without asking the server. "
            "0 (default): every load revalidates (a rotation is seen at once)."
        ),
    )

    def __init__(self, /, **values: Any) -> None:
        try:
            super().__init__(**values)
        except pydantic.ValidationError as exc:
            error = ConfigurationError(_describe(exc))
            error.field_errors = [(str(e["loc"][0]) if e["loc"] else "", e["msg"])
                                  for e in exc.errors()]
            raise error from None

    @field_validator("recovery_window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(SUPPORTED_DATABASES):
            scheme = value.partition(":")[0][:40] or "(none)"
            raise ValueError(
                f"unsupported database {scheme!r}: use sqlite:///path/to/blocks.db or "
                "postgresql+psycopg://user@host/db"
            )
        return value

    @field_validator("api_url")
    @classmethod
    def _api_urls(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for url in (part.strip() for part in value.split(",")):
            if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
                shown = url[:60] or "(empty)"
                raise ValueError(
                    f"{shown!r} is not a server URL: give http(s)://host:port, several "
                    "separated by commas for fail-over"
                )
        return value

    @model_validator(mode="after")
    def _one_registry(self) -> Settings:
        if self.api_url is not None and self.database_url is not None:
            raise ValueError(
                "BLOCKS_API_URL and BLOCKS_DATABASE_URL are both set: a client reaches the "
                "registry either through a blocks server (BLOCKS_API_URL) or directly "
                "(BLOCKS_DATABASE_URL); unset one of them"
            )
        return self

    @property
    def api_urls(self) -> list[str]:
        """The server URLs of ``api_url``, in fail-over order (empty: a local registry)."""
        if self.api_url is None:
            return []
        return [part.strip().rstrip("/") for part in self.api_url.split(",")]

    @field_validator("home", "master_key_file")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        """The store URL, defaulting to the embedded SQLite file under ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'blocks.db'}"

    @property
    def resolved_master_key_file(self) -> Path:
        """The local master key file path."""
        return self.master_key_file or self.home / "master.key"


MAX_RECOVERY_WINDOW = timedelta(days=30)
_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(value: object) -> timedelta:
    """A recovery window: a ``timedelta``, a number of days, or text such as ``7d``, ``36h``,
    ``90m``, ``0`` (shred at once); at most 30 days.

    Raises:
        ValueError: anything else (the message says what is accepted).
    """
    accepted = "use 0 (shred at once) up to 30d, e.g. 7d, 36h or 90m"
    if isinstance(value, timedelta):
        window = value
    elif isinstance(value, int) and not isinstance(value, bool):
        window = timedelta(days=value)
    elif isinstance(value, str) and re.fullmatch(r"\d{1,7}[smhd]?", value.strip()):
        text = value.strip()
        unit = text[-1] if text[-1] in _WINDOW_UNITS else "d"
        window = timedelta(seconds=int(text.rstrip("smhd")) * _WINDOW_UNITS[unit])
    else:
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise ValueError(f"invalid recovery window {shown}: {accepted}")
    if not timedelta(0) <= window <= MAX_RECOVERY_WINDOW:
        shown = repr(value)[:40] if isinstance(value, str) else str(window)
        raise ValueError(f"invalid recovery window {shown}: {accepted}")
    return window


def env_names(field: str) -> str:
    """The environment variable(s) that set a field, e.g. ``BLOCKS_VAULT_ADDR or VAULT_ADDR``."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice) for choice in alias.choices)
    return f"BLOCKS_{field.upper()}"


def _describe(exc: pydantic.ValidationError) -> str:
    # One line per invalid setting, naming its variable; never the value (it may be a key).
    by_alias = {
        str(choice).lower(): name
        for name, info in Settings.model_fields.items()
        if isinstance(info.validation_alias, AliasChoices)
        for choice in info.validation_alias.choices
    }
    problems = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        field = by_alias.get(field.lower(), field)
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{env_names(field)} ({field}): {message}" if field else message)
    return "invalid setting: " + "; ".join(problems)


def provider_settings_lines(settings: Settings) -> list[str]:
    """``NAME=value`` lines that select the settings' master key in another process."""
    lines = [f"BLOCKS_KEY_PROVIDER={settings.key_provider}"]
    if settings.key_provider == "local":
        if settings.master_key is None:
            lines.append(f"BLOCKS_MASTER_KEY_FILE={settings.resolved_master_key_file}")
    elif settings.key_provider == "aws-kms":
        lines.append(f"BLOCKS_KMS_KEY_ID={settings.kms_key_id}")
    else:
        lines += [f"BLOCKS_VAULT_TRANSIT_MOUNT={settings.vault_transit_mount}",
                  f"BLOCKS_VAULT_TRANSIT_KEY={settings.vault_transit_key}"]
    return lines
