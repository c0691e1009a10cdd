"""The ``aws-kms`` master-key provider: AWS KMS ``Encrypt``/``Decrypt`` with an encryption context.

Hazardous materials: low-level. boto3 is imported when a provider is built, never by
``import blocks``; without it, :class:`blocks.errors.MissingExtraError` names the ``aws`` extra.

The keyring term is sent to KMS as ``Plaintext`` (KMS encrypts up to 4 KiB directly, so no local
data key is needed) and the context as ``EncryptionContext``, which KMS authenticates and logs in
CloudTrail. ``Decrypt`` always names the configured key, so a ciphertext made under another key
is rejected instead of silently opened with whatever key it names.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from blocks.errors import DecryptionError, KeyProviderError, MissingExtraError
from blocks.keys.sdk_logging import provider_call

NAME = "aws-kms"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
MAX_ATTEMPTS = 3

# KMS error codes that mean "this ciphertext does not open with this key and context".
_AUTHENTICITY_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
# Short, actionable reasons for refusals; anything else is reported by its code only.
_REASONS = {
    "AccessDeniedException": "access denied; grant kms:Encrypt and kms:Decrypt on the key",
    "NotFoundException": "key not found; check BLOCKS_KMS_KEY_ID and the region",
    "DisabledException": "key is disabled",
    "KMSInvalidStateException": "key is not usable in its current state (pending deletion?)",
    "KeyUnavailableException": "key is unavailable; retry later",
    "DependencyTimeoutException": "KMS timed out; retry later",
    "KMSInternalException": "KMS internal error; retry later",
    "ThrottlingException": "request throttled; retry later",
    "UnrecognizedClientException": "credentials not recognised",
    "InvalidClientTokenId": "credentials not recognised",
    "ExpiredTokenException": "credentials expired",
    "InvalidSignatureException": "request signature rejected; check the credentials",
    "ValidationException": "request rejected; check the key id",
}


def _load_boto3() -> tuple[ModuleType, ModuleType]:
    # import_module keeps mypy independent of whether boto3-stubs is installed.
    try:
        return importlib.import_module("boto3"), importlib.import_module("botocore.config")
    except ImportError:
        raise MissingExtraError("boto3", "aws", "the aws-kms key provider") from None


class AwsKmsKeyProvider:
    """Wraps keyring terms with an AWS KMS symmetric key.

    Args:
        key_id: key id, alias (``alias/name``) or ARN.
        region: AWS region; default from the environment/profile.
        endpoint_url: endpoint override, e.g. a moto server in tests.
        client: a ready boto3 KMS client (``boto3.client("kms", ...)``); when given,
            ``region`` and ``endpoint_url`` are taken from it and no client is built.
        connect_timeout: seconds to wait for a connection before giving up.
        read_timeout: seconds to wait for an answer before giving up.

    Raises:
        MissingExtraError: boto3 is not installed.
        ValueError: ``key_id`` is empty.
    """

    name = NAME

    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        if not key_id:
            raise ValueError("an aws-kms key id, alias or ARN is required")
        self._key_id = key_id
        if client is None:
            boto3, botocore_config = _load_boto3()
            config = botocore_config.Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            )
            try:
                client = boto3.client(
                    "kms", region_name=region, endpoint_url=endpoint_url, config=config
                )
            except Exception as exc:  # botocore raises many kinds here (no region, bad URL)
                raise KeyProviderError(
                    NAME, endpoint_url or f"kms.{region or '?'}", _describe(exc)
                ) from None
        self._client: Any = client
        self._endpoint = str(client.meta.endpoint_url)

    def __repr__(self) -> str:
        return f"AwsKmsKeyProvider(key_id={self._key_id!r}, endpoint={self._endpoint!r})"

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        ctx = _context(context)
        try:
            with provider_call():
                answer = self._client.encrypt(
                    KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=ctx
                )
        except Exception as exc:
            raise self._error(exc) from None
        return bytes(answer["CiphertextBlob"])

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        ctx = _context(context)
        if not wrapped:
            raise DecryptionError()
        try:
            with provider_call():
                answer = self._client.decrypt(
                    KeyId=self._key_id, CiphertextBlob=wrapped, EncryptionContext=ctx
                )
        except Exception as exc:
            if _code(exc) in _AUTHENTICITY_CODES:
                raise DecryptionError() from None
            if _code(exc) == "AccessDeniedException" and self._own_key_usable():
                # KMS (and moto) answer AccessDenied when the ciphertext names a key we may not
                # use; our own key works, so the ciphertext is simply not ours.
                raise DecryptionError() from None
            raise self._error(exc) from None
        return bytes(answer["Plaintext"])

    def check(self) -> None:
        probe = b"blocks-health-check"
        ctx = {"purpose": "check"}
        if self.unwrap(self.wrap(probe, ctx), ctx) != probe:
            raise KeyProviderError(NAME, self._endpoint, "wrap/unwrap round trip failed")

    def _own_key_usable(self) -> bool:
        probe, ctx = b"blocks-health-check", {"purpose": "check"}
        try:
            with provider_call():
                blob = self._client.encrypt(
                    KeyId=self._key_id, Plaintext=probe, EncryptionContext=ctx
                )
                answer = self._client.decrypt(
                    KeyId=self._key_id, CiphertextBlob=blob["CiphertextBlob"],
                    EncryptionContext=ctx,
                )
        except Exception:
            return False
        return bytes(answer["Plaintext"]) == probe

    def _error(self, exc: Exception) -> KeyProviderError:
        return KeyProviderError(NAME, self._endpoint, _describe(exc, key_id=self._key_id))


def _context(context: Mapping[str, str]) -> dict[str, str]:
    for k, v in context.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("key-provider context keys and values must be str")
    return dict(context)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _describe(exc: Exception, *, key_id: str = "") -> str:
    """A one-line reason without SDK internals (botocore messages can be long and nested)."""
    code = _code(exc)
    if code:
        reason = _REASONS.get(code, f"KMS refused the request ({code})")
        return f"{reason} (key {key_id})" if key_id and code == "NotFoundException" else reason
    kind = type(exc).__name__
    if kind in {"EndpointConnectionError", "ConnectionClosedError", "ConnectionError"}:
        return "unreachable (connection failed)"
    if kind in {"ConnectTimeoutError", "ReadTimeoutError"}:
        return "unreachable (timed out)"
    if kind in {"NoCredentialsError", "PartialCredentialsError"}:
        return "no AWS credentials found (environment, profile or instance role)"
    if kind == "NoRegionError":
        return "no region; set AWS_REGION or BLOCKS_AWS_REGION"
    if kind == "ParamValidationError":
        return "request rejected by the SDK; check the key id"
    if kind == "ValueError" and "endpoint" in str(exc).lower():
        return "invalid endpoint URL"
    return f"request failed ({kind})"
