"""AWS credentials blocks: :class:`AwsCredentials` and :class:`MinIOCredentials`.

Field names follow prefect-aws, so a Prefect ``AwsCredentials``/``MinIOCredentials`` document
loads as is (``assume_role_arn`` is accepted for ``role_arn``). :class:`S3Bucket` lives in
:mod:`blocks.types.s3` and is importable from here too. boto3 is imported by the methods that
need it (extra ``aws``), never by ``import blocks``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import (
    AliasChoices,
    Field,
    JsonValue,
    SecretStr,
    field_validator,
    model_validator,
)

from blocks import catalog
from blocks.core import Block
from blocks.types._aws_params import AssumeRoleParameters, AwsClientParameters, ClientType
from blocks.types._aws_sessions import Boto3Clients
from blocks.types._rules import import_extra, raise_field_errors, reveal, warn_unusual

_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# What botocore itself accepts as a region name (anything else fails when a client is made).
_BOTOCORE_REGION_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DEFAULT_ROLE_SESSION_NAME = "blocks"

# Keys of STS AssumeRole that assume_role_kwargs may carry (prefect-aws AssumeRoleParameters).
ASSUME_ROLE_KEYS = frozenset(AssumeRoleParameters.model_fields)
__all__ = [
    "ASSUME_ROLE_KEYS", "AssumeRoleParameters", "AwsClientParameters", "AwsCredentials",
    "ClientType", "MinIOCredentials",
]

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class AwsCredentials(Boto3Clients, Block):
    """Credentials for AWS: access keys, a profile or the default chain, optionally a role.

    Leave the keys empty to use boto3's default chain (environment, profile, instance role).
    With ``role_arn``, the session holds temporary credentials from STS ``AssumeRole``.

    Example:
        >>> creds = AwsCredentials(region_name="eu-west-1", role_arn=ROLE)   # doctest: +SKIP
        >>> creds.get_client("s3").list_buckets()                           # doctest: +SKIP
    """

    aws_access_key_id: str | None = Field(
        default=None, description="Access key id (AKIA... or ASIA...); default: boto3's chain."
    )
    aws_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret access key; required with aws_access_key_id."
    )
    aws_session_token: SecretStr | None = Field(
        default=None, description="Session token, for temporary access keys only."
    )
    profile_name: str | None = Field(
        default=None, description="Profile of the shared AWS config files to start from."
    )
    region_name: str | None = Field(
        default=None, description="Region, e.g. us-east-1; default: boto3's (AWS_REGION...)."
    )
    aws_client_parameters: AwsClientParameters = Field(
        default_factory=AwsClientParameters,
        description="Extra client arguments: endpoint_url, verify, api_version, botocore config.",
    )
    role_arn: str | None = Field(
        default=None,
        validation_alias=AliasChoices("role_arn", "assume_role_arn"),
        description=(
            "IAM role to assume through STS (arn:aws:iam::<account>:role/<name>); the session "
            "then uses the role's temporary credentials. Also accepted as assume_role_arn "
            "(prefect-aws). Default: no role."
        ),
    )
    role_session_name: str | None = Field(
        default=None,
        description=f"Session name for the assumed role (2-64 characters); default "
        f"'{DEFAULT_ROLE_SESSION_NAME}'.",
    )
    external_id: str | None = Field(
        default=None, description="External id the role's trust policy requires, if any."
    )
    assume_role_kwargs: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="More STS AssumeRole parameters, as in prefect-aws: DurationSeconds, "
        "Policy, PolicyArns, Tags, TransitiveTagKeys, SerialNumber, TokenCode, SourceIdentity, "
        "ProvidedContexts (RoleSessionName and ExternalId are also accepted here). "
        "Null entries are ignored. Default: none.",
    )

    @field_validator("assume_role_kwargs", mode="before")
    @classmethod
    def _drop_nulls(cls, value: Any) -> Any:
        # prefect-aws documents carry every AssumeRoleParameters key, unset ones as null.
        if isinstance(value, AssumeRoleParameters):
            return value.get_params_override()
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value

    @property
    def assume_role_arn(self) -> str | None:
        """prefect-aws's name for :attr:`role_arn`."""
        return self.role_arn

    @model_validator(mode="after")
    def _check_rules(self) -> AwsCredentials:
        problems: list[tuple[str, str]] = []
        if self.aws_secret_access_key is not None and not self.aws_access_key_id:
            problems.append(("aws_access_key_id", "required when aws_secret_access_key is set"))
        if self.aws_access_key_id and self.aws_secret_access_key is None:
            problems.append(("aws_secret_access_key", "required when aws_access_key_id is set"))
        if self.aws_session_token is not None and not self.aws_access_key_id:
            problems.append(
                ("aws_session_token", "only valid with aws_access_key_id/aws_secret_access_key")
            )
        problems += region_problems(type(self).__name__, self.region_name)
        if self.role_arn is not None and not _ROLE_ARN_RE.match(self.role_arn):
            problems.append(("role_arn", "must look like arn:aws:iam::123456789012:role/name"))
        if self.role_session_name is not None and not _SESSION_NAME_RE.match(
            self.role_session_name
        ):
            problems.append(
                ("role_session_name", "must be 2-64 of letters, digits and +=,.@_-")
            )
        if self.external_id is not None and not _EXTERNAL_ID_RE.match(self.external_id):
            problems.append(("external_id", "must be 2-1224 of letters, digits and +=,.@:/_-"))
        for name in ("role_session_name", "external_id"):
            if getattr(self, name) is not None and self.role_arn is None:
                problems.append((name, "only used with role_arn"))
        problems += self._assume_role_kwargs_problems()
        raise_field_errors(type(self).__name__, problems)
        return self

    def _assume_role_kwargs_problems(self) -> list[tuple[str, str]]:
        kwargs = self.assume_role_kwargs
        if not kwargs:
            return []
        if self.role_arn is None:
            return [("assume_role_kwargs", "only used with role_arn (assume_role_arn)")]
        problems = [
            (f"assume_role_kwargs.{key}",
             f"not an AssumeRole parameter; use one of {', '.join(sorted(ASSUME_ROLE_KEYS))}")
            for key in kwargs if key not in ASSUME_ROLE_KEYS
        ]
        for key, field_name in (("RoleSessionName", "role_session_name"),
                                ("ExternalId", "external_id")):
            if key in kwargs and getattr(self, field_name) is not None:
                problems.append((f"assume_role_kwargs.{key}",
                                 f"give {field_name} or assume_role_kwargs.{key}, not both"))
        return problems

    def get_secrets_manager_client(self) -> SecretsManagerClient:
        """The (cached) boto3 Secrets Manager client (prefect-aws's name)."""
        client: SecretsManagerClient = self.get_client("secretsmanager")
        return client

    def _new_session(self) -> tuple[Any, datetime | None]:
        boto3 = import_extra(
            "boto3", package="boto3", extra="aws", purpose="AwsCredentials.get_boto3_session"
        )
        session = boto3.Session(
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=reveal(self.aws_secret_access_key),
            aws_session_token=reveal(self.aws_session_token),
            profile_name=self.profile_name,
            region_name=self.region_name,
        )
        if self.role_arn is None:
            return session, None
        return self._assume_role(boto3, session)

    def _assume_role(self, boto3: Any, base: Any) -> tuple[Any, datetime]:
        sts = base.client("sts", **self.aws_client_parameters.client_kwargs())
        params: dict[str, Any] = {
            "RoleSessionName": self.role_session_name or DEFAULT_ROLE_SESSION_NAME,
            **self.assume_role_kwargs,
            "RoleArn": self.role_arn,
        }
        if self.external_id is not None:
            params["ExternalId"] = self.external_id
        creds = sts.assume_role(**params)["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=base.region_name,
        )
        return session, creds["Expiration"]

    def _fingerprint(self) -> str:
        values = [
            self.aws_access_key_id, reveal(self.aws_secret_access_key),
            reveal(self.aws_session_token), self.profile_name, self.region_name,
            self.aws_client_parameters.model_dump(), self.role_arn, self.role_session_name,
            self.external_id, self.assume_role_kwargs,
        ]
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


class MinIOCredentials(Boto3Clients, Block):
    """Credentials for a MinIO server (or any S3-compatible store), as prefect-aws has them.

    Set ``aws_client_parameters.endpoint_url`` to the server's URL. Accepted as
    ``S3Bucket.credentials``.

    Example:
        >>> creds = MinIOCredentials(minio_root_user="admin", minio_root_password="...",
        ...     aws_client_parameters={"endpoint_url": "http://minio:9000"})  # doctest: +SKIP
    """

    block_type_slug = "minio-credentials"  # Prefect's slug (not min-io-credentials)

    minio_root_user: str = Field(description="Admin or root user (the S3 access key id).")
    minio_root_password: SecretStr = Field(
        description="Admin or root password (the S3 secret access key)."
    )
    region_name: str | None = Field(
        default=None, description="Region to sign requests for; default: boto3's."
    )
    aws_client_parameters: AwsClientParameters = Field(
        default_factory=AwsClientParameters,
        description="Client arguments; endpoint_url is the MinIO server's URL.",
    )

    @model_validator(mode="after")
    def _check_region(self) -> MinIOCredentials:
        raise_field_errors(type(self).__name__, region_problems(type(self).__name__,
                                                                self.region_name))
        return self

    def _new_session(self) -> tuple[Any, datetime | None]:
        boto3 = import_extra(
            "boto3", package="boto3", extra="aws", purpose="MinIOCredentials.get_boto3_session"
        )
        session = boto3.Session(
            aws_access_key_id=self.minio_root_user,
            aws_secret_access_key=self.minio_root_password.get_secret_value(),
            region_name=self.region_name,
        )
        return session, None

    def _fingerprint(self) -> str:
        values = ["minio", self.minio_root_user, self.minio_root_password.get_secret_value(),
                  self.region_name, self.aws_client_parameters.model_dump()]
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def region_problems(model: str, region: str | None) -> list[tuple[str, str]]:
    """Refuse a region name botocore refuses; warn about one not in AWS's form (private
    clouds and tests use their own names, and prefect-aws accepts them)."""
    if region is None:
        return []
    if not _BOTOCORE_REGION_RE.match(region):
        return [("region_name",
                 "must be a region name such as us-east-1 (letters, digits and dashes)")]
    if not _REGION_RE.match(region):
        warn_unusual(model, "region_name",
                     f"{region!r} is not an AWS region name such as us-east-1; used as given")
    return []


def __getattr__(name: str) -> Any:
    # S3Bucket moved to blocks.types.s3 (which builds on this module); it stays importable
    # from here, found through the catalog of block types as any stored block's type is.
    if name == "S3Bucket":
        return catalog.get("s3-bucket")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
