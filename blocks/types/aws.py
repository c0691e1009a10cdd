"""AWS blocks: :class:`AwsCredentials` and :class:`S3Bucket`.

Field names follow prefect-aws, so a Prefect ``AwsCredentials``/``S3Bucket`` document loads as
is. boto3 is imported by the methods that need it (extra ``aws``), never by ``import blocks``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    field_validator,
    model_validator,
)

from blocks.core import Block, InputSafeModel
from blocks.types._rules import import_extra, raise_field_errors, reveal

_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Temporary role credentials are renewed this long before they expire.
_RENEW_BEFORE = timedelta(minutes=5)
DEFAULT_ROLE_SESSION_NAME = "blocks"

_CACHE_SIZE = 16


@dataclass
class _Cached:
    session: Any
    expiry: datetime | None
    clients: dict[str, Any] = field(default_factory=dict)


# Sessions and clients by credentials fingerprint, shared by equal blocks (a loaded block is a
# new instance each time). The lock is held while STS answers, so one role is assumed once.
_cache: OrderedDict[str, _Cached] = OrderedDict()
_cache_lock = threading.Lock()


class AwsClientParameters(InputSafeModel):
    """Extra arguments for boto3 clients (as prefect-aws's ``AwsClientParameters``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    api_version: str | None = Field(
        default=None, description="API version for the clients; default: the latest."
    )
    use_ssl: bool = Field(default=True, description="Use TLS (default true).")
    verify: bool = Field(
        default=True, description="Verify TLS certificates (default true)."
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
            "botocore Config arguments, e.g. {\"retries\": {\"max_attempts\": 5}}; "
            "signature_version \"unsigned\" makes anonymous requests."
        ),
    )

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.Session.client`` (only those that differ from boto3's)."""
        kwargs: dict[str, Any] = {}
        if self.api_version:
            kwargs["api_version"] = self.api_version
        if not self.use_ssl:
            kwargs["use_ssl"] = False
        if self.verify_cert_path and self.verify:
            kwargs["verify"] = self.verify_cert_path
        elif not self.verify:
            kwargs["verify"] = False
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.config:
            botocore = import_extra(
                "botocore.config", package="boto3", extra="aws", purpose="aws_client_parameters"
            )
            options: dict[str, Any] = dict(self.config)
            if options.get("signature_version") == "unsigned":
                options["signature_version"] = import_extra(
                    "botocore", package="boto3", extra="aws", purpose="aws_client_parameters"
                ).UNSIGNED
            kwargs["config"] = botocore.Config(**options)
        return kwargs


class AwsCredentials(Block):
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
        description=(
            "IAM role to assume through STS (arn:aws:iam::<account>:role/<name>); the session "
            "then uses the role's temporary credentials. Default: no role."
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
        if self.region_name is not None and not _REGION_RE.match(self.region_name):
            problems.append(("region_name", "must be an AWS region such as us-east-1"))
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
        raise_field_errors(type(self).__name__, problems)
        return self

    def get_boto3_session(self) -> Any:
        """A ``boto3.Session`` with these credentials (after assuming ``role_arn``, if set).

        Sessions are cached per set of field values (up to 16) and, for an assumed role,
        renewed five minutes before its temporary credentials expire.

        Returns:
            boto3.Session

        Raises:
            MissingExtraError: boto3 is not installed (extra ``aws``).
            botocore.exceptions.ClientError: STS refused to assume the role.
        """
        with _cache_lock:
            return self._entry_locked().session

    def get_client(self, service: str, **client_kwargs: Any) -> Any:
        """A boto3 client for ``service`` (``"s3"``, ``"sts"``, ...).

        Args:
            service: boto3 service name.
            **client_kwargs: extra ``Session.client`` arguments; they override
                ``aws_client_parameters``. Clients without extra arguments are cached.

        Returns:
            The boto3 client.

        Raises:
            MissingExtraError: boto3 is not installed (extra ``aws``).
        """
        with _cache_lock:
            entry = self._entry_locked()
            if not client_kwargs and service in entry.clients:
                return entry.clients[service]
            kwargs = {**self.aws_client_parameters.client_kwargs(), **client_kwargs}
            client = entry.session.client(service, **kwargs)
            if not client_kwargs:
                entry.clients[service] = client
            return client

    def _entry_locked(self) -> _Cached:
        boto3 = import_extra(
            "boto3", package="boto3", extra="aws", purpose="AwsCredentials.get_boto3_session"
        )
        key = self._fingerprint()
        entry = _cache.get(key)
        if entry is not None and (
            entry.expiry is None or entry.expiry - datetime.now(UTC) > _RENEW_BEFORE
        ):
            _cache.move_to_end(key)
            return entry
        session = boto3.Session(
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=reveal(self.aws_secret_access_key),
            aws_session_token=reveal(self.aws_session_token),
            profile_name=self.profile_name,
            region_name=self.region_name,
        )
        expiry = None
        if self.role_arn is not None:
            session, expiry = self._assume_role(boto3, session)
        entry = _cache[key] = _Cached(session, expiry)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return entry

    def _assume_role(self, boto3: Any, base: Any) -> tuple[Any, datetime]:
        sts = base.client("sts", **self.aws_client_parameters.client_kwargs())
        params: dict[str, Any] = {
            "RoleArn": self.role_arn,
            "RoleSessionName": self.role_session_name or DEFAULT_ROLE_SESSION_NAME,
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
            self.external_id,
        ]
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


class S3Bucket(Block):
    """An S3 bucket (optionally a folder in it) and the credentials to reach it.

    Paths given to the methods are relative to ``bucket_folder``; ``..`` segments are refused,
    so a block scoped to a folder cannot reach keys outside it.

    Example:
        >>> bucket = S3Bucket(bucket_name="data-lake", bucket_folder="raw")    # doctest: +SKIP
        >>> bucket.write_path("2026/11/21.csv", b"a,b\\n")                     # doctest: +SKIP
        'raw/2026/11/21.csv'
    """

    bucket_name: str = Field(description="Bucket name (3-63 lowercase letters, digits, . and -).")
    bucket_folder: str = Field(
        default="",
        description="Folder (key prefix) inside the bucket that paths are relative to; "
        "default: the bucket's root.",
    )
    credentials: AwsCredentials = Field(
        default_factory=AwsCredentials,
        description="AWS credentials block; default: boto3's default chain.",
    )

    @field_validator("bucket_name")
    @classmethod
    def _check_bucket_name(cls, value: str) -> str:
        if not _BUCKET_RE.match(value) or ".." in value:
            raise ValueError("must be 3-63 lowercase letters, digits, dots and dashes")
        return value

    @field_validator("bucket_folder")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        return "/".join(_key_parts(value))

    def key_for(self, path: str) -> str:
        """The object key for ``path`` inside ``bucket_folder``.

        Raises:
            ValueError: ``path`` is empty or has a ``..`` segment.
        """
        parts = _key_parts(path)
        if not parts:
            raise ValueError("path must name an object, e.g. 'reports/2026.csv'")
        return "/".join([self.bucket_folder, *parts] if self.bucket_folder else parts)

    def read_path(self, path: str) -> bytes:
        """The content of the object at ``path``.

        Raises:
            MissingExtraError: boto3 is not installed (extra ``aws``).
            botocore.exceptions.ClientError: e.g. ``NoSuchKey``, ``AccessDenied``.
        """
        response = self._s3().get_object(Bucket=self.bucket_name, Key=self.key_for(path))
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def write_path(self, path: str, content: bytes) -> str:
        """Write ``content`` to the object at ``path``, replacing it if it exists.

        Returns:
            The object's key (``bucket_folder`` included).
        """
        key = self.key_for(path)
        self._s3().put_object(Bucket=self.bucket_name, Key=key, Body=content)
        return key

    def list_objects(
        self, folder: str = "", *, page_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Every object under ``folder`` (relative to ``bucket_folder``), recursively.

        Args:
            folder: sub-folder to list; default: all of ``bucket_folder``.
            page_size: keys per ``ListObjectsV2`` request (S3's maximum and default: 1000).

        Returns:
            One dict per object as S3 returns it (``Key``, ``Size``, ``LastModified``,
            ``ETag``, ...), ordered by key. Keys include ``bucket_folder``.
        """
        parts = [*_key_parts(self.bucket_folder), *_key_parts(folder)]
        prefix = "/".join(parts) + "/" if parts else ""
        paginator = self._s3().get_paginator("list_objects_v2")
        objects: list[dict[str, Any]] = []
        pages = paginator.paginate(
            Bucket=self.bucket_name, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            objects.extend(page.get("Contents", []))
        return objects

    def _s3(self) -> Any:
        return self.credentials.get_client("s3")


def _key_parts(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("'..' is not allowed in S3 paths")
    return parts
