"""Nested models of the AWS blocks, as prefect-aws has them: client and AssumeRole parameters.

:class:`AwsClientParameters` and :class:`AssumeRoleParameters` accept what prefect-aws's models
accept (a botocore ``Config``, ``pathlib.Path`` values) and have its ``get_params_override()``,
so prefect-aws tasks given our blocks work. :class:`ClientType` is prefect-aws's enum of client
names, accepted by ``get_client``. botocore is imported only when a ``Config`` is built.
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, JsonValue, field_validator, model_validator

from blocks.core import InputSafeModel
from blocks.types._rules import import_extra


class ClientType(Enum):
    """boto3 clients by name, as prefect-aws's ``ClientType`` (``get_client`` takes either)."""

    S3 = "s3"
    ECS = "ecs"
    BATCH = "batch"
    SECRETS_MANAGER = "secretsmanager"


def _is_botocore_config(value: Any) -> bool:
    return type(value).__name__ == "Config" and type(value).__module__.startswith("botocore")


def _unsigned_as_text(options: dict[str, Any]) -> dict[str, Any]:
    # botocore.UNSIGNED is an object; stored documents are JSON, where it is "unsigned".
    signature = options.get("signature_version")
    if signature is not None and not isinstance(signature, str):
        botocore = import_extra("botocore", package="boto3", extra="aws",
                                purpose="aws_client_parameters.config")
        if signature is botocore.UNSIGNED:
            return {**options, "signature_version": "unsigned"}
    return options


def botocore_config(options: dict[str, Any]) -> Any:
    """A ``botocore.config.Config`` of ``options`` (``"unsigned"`` -> ``botocore.UNSIGNED``)."""
    botocore = import_extra("botocore", package="boto3", extra="aws",
                            purpose="aws_client_parameters.config")
    config_module = import_extra("botocore.config", package="boto3", extra="aws",
                                 purpose="aws_client_parameters.config")
    options = copy.deepcopy(options)  # botocore edits nested dicts (retries) in place
    if options.get("signature_version") == "unsigned":
        options = {**options, "signature_version": botocore.UNSIGNED}
    return config_module.Config(**options)


class AwsClientParameters(InputSafeModel):
    """Extra arguments for boto3 clients (as prefect-aws's ``AwsClientParameters``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    api_version: str | None = Field(
        default=None, description="API version for the clients; default: the latest."
    )
    use_ssl: bool = Field(default=True, description="Use TLS (default true).")
    verify: bool | str | None = Field(
        default=True,
        description="Verify TLS certificates: true (default; null means the same) or false. "
        "A CA bundle path is accepted here too (deprecated, as in prefect-aws: use "
        "verify_cert_path).",
    )
    verify_cert_path: str | None = Field(
        default=None,
        description="Path of a CA bundle to verify TLS certificates with; default: botocore's.",
    )
    endpoint_url: str | None = Field(
        default=None,
        description=(
            "Endpoint URL for every client (e.g. http://127.0.0.1:5000 for a local S3); "
            "default: the AWS endpoint of each service."
        ),
    )
    config: dict[str, JsonValue] | None = Field(
        default=None,
        description=(
            "botocore Config arguments, e.g. {\"retries\": {\"max_attempts\": 5}} (a "
            "botocore.config.Config is accepted too); signature_version \"unsigned\" makes "
            "anonymous requests."
        ),
    )

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_flag_as_text(cls, value: Any) -> Any:
        # Terraform holds this bool-or-path field as a string: "false" means false, not a path.
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("verify_cert_path", mode="before")
    @classmethod
    def _path_as_text(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("config", mode="before")
    @classmethod
    def _config_object_as_options(cls, value: Any) -> Any:
        # prefect-aws accepts a botocore Config; what it was given is _user_provided_options.
        if _is_botocore_config(value):
            value = dict(value.__dict__.get("_user_provided_options", {}))
        return _unsigned_as_text(value) if isinstance(value, dict) else value

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _verify_combinations(self) -> AwsClientParameters:
        # prefect-aws's rules, with its warnings: a path in verify is deprecated; with both
        # set, verify_cert_path wins; verify=false drops verify_cert_path.
        values = self.__dict__
        if isinstance(self.verify, str):
            if self.verify_cert_path:
                warnings.warn("verify_cert_path is set but verify is also set as a file path. "
                              "verify_cert_path will take precedence.", UserWarning, stacklevel=2)
                values["verify"] = True
            else:
                warnings.warn("verify should be a boolean. If you want to use a CA cert bundle, "
                              "use verify_cert_path instead.", DeprecationWarning, stacklevel=2)
        elif self.verify is False and self.verify_cert_path:
            warnings.warn("verify_cert_path is set but verify is False. verify_cert_path will "
                          "be ignored.", UserWarning, stacklevel=2)
            values["verify_cert_path"] = None
        return self

    def get_params_override(self) -> dict[str, Any]:
        """The ``Session.client`` arguments these parameters set, as prefect-aws returns them.

        ``use_ssl`` is always there; ``verify`` only when it was given (a CA bundle path as a
        ``Path``, ``verify_cert_path`` winning over a path in ``verify``); ``config`` as a
        ``botocore.config.Config``.
        """
        params: dict[str, Any] = {"use_ssl": self.use_ssl}
        if self.api_version is not None:
            params["api_version"] = self.api_version
        if self.endpoint_url is not None:
            params["endpoint_url"] = self.endpoint_url
        if self.verify_cert_path:
            params["verify"] = Path(self.verify_cert_path)
        elif isinstance(self.verify, str):
            params["verify"] = Path(self.verify)
        elif self.verify is False or (
            self.verify is True and "verify" in self.model_fields_set
        ):
            params["verify"] = self.verify
        if self.config is not None:
            params["config"] = botocore_config(self.config)
        return params

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.Session.client`` (only those that differ from boto3's)."""
        kwargs: dict[str, Any] = {}
        if self.api_version:
            kwargs["api_version"] = self.api_version
        if not self.use_ssl:
            kwargs["use_ssl"] = False
        if self.verify is False:
            kwargs["verify"] = False
        elif self.verify_cert_path:
            kwargs["verify"] = self.verify_cert_path
        elif isinstance(self.verify, str):
            kwargs["verify"] = self.verify
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.config:
            kwargs["config"] = botocore_config(self.config)
        return kwargs


class AssumeRoleParameters(InputSafeModel):
    """STS ``AssumeRole`` parameters, as prefect-aws's ``AssumeRoleParameters``.

    ``AwsCredentials.assume_role_kwargs`` accepts one (or a dict of the same keys).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    RoleSessionName: str | None = Field(default=None, description="Session name (2-64).")
    DurationSeconds: int | None = Field(
        default=None, description="Session duration, 900-43200 seconds."
    )
    Policy: str | None = Field(default=None, description="Inline session policy (JSON).")
    PolicyArns: list[dict[str, str]] | None = Field(
        default=None, description="Managed session policies: [{\"arn\": ...}]."
    )
    Tags: list[dict[str, str]] | None = Field(
        default=None, description="Session tags: [{\"Key\": ..., \"Value\": ...}]."
    )
    TransitiveTagKeys: list[str] | None = Field(
        default=None, description="Keys of the session tags that persist in role chaining."
    )
    ExternalId: str | None = Field(default=None, description="External id the role requires.")
    SerialNumber: str | None = Field(default=None, description="MFA device serial or ARN.")
    TokenCode: str | None = Field(default=None, description="MFA code.")
    SourceIdentity: str | None = Field(default=None, description="Source identity.")
    ProvidedContexts: list[dict[str, str]] | None = Field(
        default=None, description="[{\"ProviderArn\": ..., \"ContextAssertion\": ...}]."
    )

    def get_params_override(self) -> dict[str, Any]:
        """The parameters that are set (not ``None``), as ``sts.assume_role`` keywords."""
        return {key: value for key, value in self.model_dump().items() if value is not None}
