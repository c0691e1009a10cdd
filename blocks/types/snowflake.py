"""Snowflake blocks: :class:`SnowflakeCredentials` and :class:`SnowflakeConnector`.

Field names and rules follow prefect-snowflake, stricter where Prefect lets an inconsistent
block through: each authenticator takes exactly the secrets it uses. The connector
(``snowflake-connector-python``, extra ``snowflake``) is imported only by ``get_connection``.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SecretBytes,
    SecretStr,
    field_validator,
    model_validator,
)

from blocks.core import Block
from blocks.types._rules import import_extra, raise_field_errors, reveal
from blocks.types._snowflake_cursors import SnowflakeMethods, SnowflakeSession
from blocks.types._snowflake_rules import (
    auth_problems,
    normalise_pem,
    pem_problems,
    workload_problems,
)

Authenticator = Literal[
    "snowflake",
    "snowflake_jwt",
    "externalbrowser",
    "okta_endpoint",
    "oauth",
    "username_password_mfa",
    "workload_identity",
]
WorkloadIdentityProvider = Literal["aws", "azure", "gcp", "oidc"]

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SnowflakeCredentials(Block):
    """How to sign in to a Snowflake account.

    Pick an ``authenticator`` and give exactly the secret it uses: ``password`` (snowflake,
    okta_endpoint, username_password_mfa), a PEM RSA ``private_key`` or ``private_key_path``
    (snowflake_jwt; snowflake too), ``token`` (oauth), or none (externalbrowser).

    Example:
        >>> creds = SnowflakeCredentials(                                   # doctest: +SKIP
        ...     account="nh12345.us-east-2.aws", user="etl",
        ...     authenticator="snowflake_jwt", private_key=pem_bytes)
    """

    account: str = Field(
        description="Account identifier, e.g. nh12345.us-east-2.aws or myorg-myaccount "
        "(without .snowflakecomputing.com).",
        examples=["nh12345.us-east-2.aws"],
    )
    user: str | None = Field(
        default=None,
        description="User name to sign in as; required unless authenticator is "
        "workload_identity.",
    )
    password: SecretStr | None = Field(
        default=None,
        description="Password, for the snowflake, okta_endpoint and username_password_mfa "
        "authenticators.",
    )
    private_key: SecretBytes | None = Field(
        default=None,
        description="PEM RSA private key for key-pair (JWT) authentication: the PEM text or "
        "the base64 of it. Exclusive with private_key_path.",
    )
    private_key_path: Path | None = Field(
        default=None,
        description="Path of a PEM RSA private key file on the machine that connects. "
        "Exclusive with private_key.",
    )
    private_key_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of an encrypted private key."
    )
    authenticator: Authenticator = Field(
        default="snowflake",
        description="snowflake (default: password, or key pair), snowflake_jwt (key pair), "
        "externalbrowser, okta_endpoint (with endpoint), oauth (with token), "
        "username_password_mfa or workload_identity (with workload_identity_provider).",
    )
    workload_identity_provider: WorkloadIdentityProvider | None = Field(
        default=None,
        description="aws, azure, gcp or oidc: where the workload's identity comes from, for "
        "authenticator workload_identity only (required there).",
    )
    token: SecretStr | None = Field(
        default=None,
        description="OAuth access token (authenticator oauth), or the OIDC token "
        "(authenticator workload_identity with provider oidc).",
    )
    endpoint: str | None = Field(
        default=None,
        description="Okta URL (https://<account>.okta.com), for authenticator okta_endpoint "
        "only.",
    )
    role: str | None = Field(default=None, description="Default role; default: the user's.")
    autocommit: bool | None = Field(
        default=None, description="Autocommit mode; default: the account's setting."
    )

    @field_validator("private_key", mode="before")
    @classmethod
    def _accept_pem_text(cls, value: Any) -> Any:
        # PEM text is taken as is; the base64 of a PEM is unambiguous (PEM text starts with
        # '-----BEGIN', base64 never does) and is decoded.
        raw = value.encode() if isinstance(value, str) else value
        if isinstance(raw, bytes) and not raw.lstrip().startswith(b"-----BEGIN"):
            try:
                decoded = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                return raw
            return decoded if decoded.lstrip().startswith(b"-----BEGIN") else raw
        return raw

    @model_validator(mode="after")
    def _check_rules(self) -> SnowflakeCredentials:
        problems: list[tuple[str, str]] = []
        if not _ACCOUNT_RE.match(self.account) or self.account.lower().endswith(
            ".snowflakecomputing.com"
        ):
            problems.append(
                ("account", "must be the account identifier without .snowflakecomputing.com")
            )
        if self.user is None and self.authenticator != "workload_identity":
            problems.append(("user", f"required with authenticator {self.authenticator}"))
        problems += workload_problems(
            self.authenticator, self.workload_identity_provider, self.token is not None
        )
        if self.private_key is not None and self.private_key_path is not None:
            problems.append(("private_key_path", "give private_key or private_key_path, not both"))
        has_key = self.private_key is not None or self.private_key_path is not None
        given = {
            "password": self.password is not None,
            "key": has_key,
            "token": self.token is not None,
        }
        if self.authenticator == "workload_identity":  # the token: workload_problems
            given = {**given, "token": False}
        problems += auth_problems(self.authenticator, given)
        if self.authenticator == "okta_endpoint" and not self.endpoint:
            problems.append(("endpoint", "required when authenticator is okta_endpoint"))
        if self.endpoint is not None:
            if self.authenticator != "okta_endpoint":
                problems.append(("endpoint", "only used with authenticator okta_endpoint"))
            elif not self.endpoint.startswith("https://"):
                problems.append(("endpoint", "must be an https:// URL"))
        if self.private_key_passphrase is not None and not has_key:
            problems.append(
                ("private_key_passphrase", "only used with private_key or private_key_path")
            )
        if self.private_key is not None:
            problems += pem_problems(
                self.private_key.get_secret_value(), reveal(self.private_key_passphrase)
            )
        raise_field_errors(type(self).__name__, problems)
        return self

    def resolve_private_key(self) -> bytes | None:
        """The private key as unencrypted PKCS#8 DER, as the Snowflake connector takes it.

        Returns:
            The DER bytes, or ``None`` when no key is configured.

        Raises:
            OSError: ``private_key_path`` cannot be read.
            ValueError: the key file is not a usable PEM RSA key (message names the field).
        """
        if self.private_key is not None:
            pem = self.private_key.get_secret_value()
        elif self.private_key_path is not None:
            pem = self.private_key_path.expanduser().read_bytes()
            problems = pem_problems(pem, reveal(self.private_key_passphrase))
            if problems:
                raise ValueError(
                    f"private_key_path {self.private_key_path}: " + problems[0][1]
                )
        else:
            return None
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(
            normalise_pem(pem), password=_passphrase(self.private_key_passphrase)
        )
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def connect_params(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``snowflake.connector.connect`` (secrets revealed).

        Args:
            **overrides: extra or overriding connector arguments (``database=...``).
        """
        params: dict[str, Any] = {"account": self.account}
        if self.user is not None:
            params["user"] = self.user
        if self.workload_identity_provider is not None:
            params["workload_identity_provider"] = self.workload_identity_provider.upper()
        if self.authenticator == "okta_endpoint":
            params["authenticator"] = self.endpoint
        elif self.authenticator == "snowflake" and self._has_key():
            params["authenticator"] = "SNOWFLAKE_JWT"
        else:
            params["authenticator"] = self.authenticator.upper()
        if self.password is not None:
            params["password"] = self.password.get_secret_value()
        if self.token is not None:
            params["token"] = self.token.get_secret_value()
        der = self.resolve_private_key()
        if der is not None:
            params["private_key"] = der
        if self.role is not None:
            params["role"] = self.role
        if self.autocommit is not None:
            params["autocommit"] = self.autocommit
        params.update(overrides)
        return params

    def get_client(self, **connect_kwargs: Any) -> Any:
        """An open ``snowflake.connector.SnowflakeConnection``.

        Raises:
            MissingExtraError: snowflake-connector-python is not installed (extra ``snowflake``).
        """
        connector = import_extra(
            "snowflake.connector",
            package="snowflake-connector-python",
            extra="snowflake",
            purpose="SnowflakeCredentials.get_client",
        )
        return connector.connect(**self.connect_params(**connect_kwargs))

    def _has_key(self) -> bool:
        return self.private_key is not None or self.private_key_path is not None


class SnowflakeConnector(SnowflakeMethods, Block):
    """A Snowflake database, warehouse and schema, with the credentials to reach them.

    Prefect's ``fetch_one``/``fetch_many``/``fetch_all``/``execute``/``execute_many`` run on
    one connection that the block keeps open until ``close()`` (or the end of a ``with``).

    Example:
        >>> with SnowflakeConnector.load("analytics").get_connection() as conn:  # doctest: +SKIP
        ...     conn.cursor().execute("select 1").fetchone()
    """

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    credentials: SnowflakeCredentials = Field(description="Snowflake credentials block.")
    database: str = Field(description="Database to use.")
    warehouse: str = Field(description="Warehouse to run queries on.")
    schema_: str = Field(
        alias="schema", description="Schema to use (field 'schema'; 'schema_' in Python)."
    )
    fetch_size: int = Field(
        default=1, ge=1, description="Rows to fetch per round trip (default 1)."
    )
    poll_frequency_s: int = Field(
        default=1,
        ge=1,
        description="Seconds between status checks of a running query (default 1).",
    )

    _session_state: SnowflakeSession | None = PrivateAttr(default=None)

    def get_connection(self, **connect_kwargs: Any) -> Any:
        """An open ``snowflake.connector.SnowflakeConnection`` to this database and schema.

        Args:
            **connect_kwargs: extra ``snowflake.connector.connect`` arguments.

        Raises:
            MissingExtraError: snowflake-connector-python is not installed (extra ``snowflake``).
        """
        connector = import_extra(
            "snowflake.connector",
            package="snowflake-connector-python",
            extra="snowflake",
            purpose="SnowflakeConnector.get_connection",
        )
        params = self.credentials.connect_params(
            database=self.database, warehouse=self.warehouse, schema=self.schema_,
            **connect_kwargs,
        )
        return connector.connect(**params)


def _passphrase(secret: SecretStr | None) -> bytes | None:
    return secret.get_secret_value().encode() if secret is not None else None
