"""The ``vault-transit`` master-key provider: HashiCorp Vault / OpenBao Transit engine.

Hazardous materials: low-level. hvac is imported when a provider is built, never by
``import blocks``; without it, :class:`blocks.errors.MissingExtraError` names the ``vault`` extra.

The context is bound as Transit **associated data** (AES-GCM AAD over the canonical JSON of the
context), not as a derived-key context. Why: it binds exactly like AWS KMS's
``EncryptionContext`` (authenticated, not secret), and it works with an ordinary
``aes256-gcm96`` key, so operators can point Blocks at a key they already manage, rotate it and
back it up as usual. A derived key would have to be created with ``derived=true`` (an immutable
choice), would fail confusingly against existing non-derived keys, and derives a new key per
context for no extra protection here: the context is already authenticated by the AAD.

Authentication is a token, or AppRole (role id + secret id): the provider logs in on first use
and once more when Vault rejects an expired token.
"""

from __future__ import annotations

import base64
import binascii
import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from blocks.errors import DecryptionError, KeyProviderError, MissingExtraError
from blocks.keys.base import canonical_context
from blocks.keys.sdk_logging import provider_call

NAME = "vault-transit"
TIMEOUT = 10.0
KEY_TYPE = "aes256-gcm96"
_PREFIX = "vault:v"

T = TypeVar("T")


def _load_hvac() -> Any:
    try:
        return importlib.import_module("hvac")
    except ImportError:
        raise MissingExtraError("hvac", "vault", "the vault-transit key provider") from None


class VaultTransitKeyProvider:
    """Wraps keyring terms with a Vault/OpenBao Transit key.

    Args:
        addr: Vault address, e.g. ``https://vault.example.com:8200``.
        key: Transit key name.
        mount: Transit engine mount path.
        token: a Vault token; or give ``role_id`` and ``secret_id`` for AppRole.
        role_id: AppRole role id.
        secret_id: AppRole secret id.
        approle_mount: AppRole auth mount path.
        namespace: Vault Enterprise namespace.
        timeout: seconds per HTTP request.
        client: a ready ``hvac.Client`` (tests, custom TLS); its token is used as is unless
            AppRole credentials are given.

    Raises:
        MissingExtraError: hvac is not installed.
        KeyProviderError: neither a token nor AppRole credentials were given.
    """

    name = NAME

    def __init__(
        self,
        addr: str,
        key: str,
        *,
        mount: str = "transit",
        token: str | None = None,
        role_id: str | None = None,
        secret_id: str | None = None,
        approle_mount: str = "approle",
        namespace: str | None = None,
        timeout: float = TIMEOUT,
        client: Any = None,
    ) -> None:
        if not key or not mount:
            raise ValueError("a vault-transit mount and key name are required")
        self._addr = addr.rstrip("/")
        self._key = key
        self._mount = mount.strip("/")
        self._approle = (role_id, secret_id, approle_mount) if role_id and secret_id else None
        self._hvac = _load_hvac()
        if client is None:
            if not token and self._approle is None:
                raise KeyProviderError(
                    NAME, self._addr,
                    "no credentials; set VAULT_TOKEN, or BLOCKS_VAULT_ROLE_ID and "
                    "BLOCKS_VAULT_SECRET_ID for AppRole",
                )
            client = self._hvac.Client(
                url=self._addr, token=token, namespace=namespace, timeout=timeout
            )
        self._client = client
        self._logged_in = self._approle is None

    def __repr__(self) -> str:
        return f"VaultTransitKeyProvider(key_id={self.key_id!r}, endpoint={self._addr!r})"

    @property
    def key_id(self) -> str:
        return f"{self._mount}/{self._key}"

    @property
    def endpoint(self) -> str:
        return self._addr

    def wrap(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        aad = _b64(canonical_context(context))

        def call() -> bytes:
            answer = self._client.secrets.transit.encrypt_data(
                name=self._key, plaintext=_b64(plaintext), associated_data=aad,
                mount_point=self._mount,
            )
            if "associated_data" in str(answer.get("warnings") or ""):
                # Vault < 1.13 ignores the parameter (with a warning): the context would not
                # be bound, so refuse rather than wrap without it.
                raise self._error(
                    "the server ignores associated_data; Vault >= 1.13 or OpenBao is required"
                )
            return str(answer["data"]["ciphertext"]).encode("ascii")

        return self._call(call, decrypting=False)

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        aad = _b64(canonical_context(context))
        try:
            ciphertext = wrapped.decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionError() from None
        if not ciphertext.startswith(_PREFIX):
            raise DecryptionError()

        def call() -> bytes:
            answer = self._client.secrets.transit.decrypt_data(
                name=self._key, ciphertext=ciphertext, associated_data=aad,
                mount_point=self._mount,
            )
            return base64.b64decode(answer["data"]["plaintext"], validate=True)

        return self._call(call, decrypting=True)

    def check(self) -> None:
        probe = b"blocks-health-check"
        ctx = {"purpose": "check"}
        if self.unwrap(self.wrap(probe, ctx), ctx) != probe:
            raise KeyProviderError(NAME, self._addr, "wrap/unwrap round trip failed")

    def ensure_key(self) -> None:
        """Create the Transit key (``aes256-gcm96``) unless it exists.

        Raises:
            KeyProviderError: Vault is unreachable, or the token may not create keys.
        """

        def call() -> None:
            try:
                self._client.secrets.transit.read_key(name=self._key, mount_point=self._mount)
            except self._hvac.exceptions.InvalidPath:
                self._client.secrets.transit.create_key(
                    name=self._key, key_type=KEY_TYPE, mount_point=self._mount
                )

        self._call(call, decrypting=False)

    def _login(self) -> None:
        assert self._approle is not None
        role_id, secret_id, approle_mount = self._approle
        self._client.auth.approle.login(
            role_id=role_id, secret_id=secret_id, mount_point=approle_mount
        )
        self._logged_in = True

    def _call(self, call: Callable[[], T], *, decrypting: bool) -> T:
        errors = self._hvac.exceptions
        try:
            with provider_call():
                if not self._logged_in:
                    self._login()
                try:
                    return call()
                except errors.Forbidden:
                    if self._approle is None:
                        raise
                    self._login()  # the AppRole token may have expired: log in once more
                    return call()
        except KeyProviderError:
            raise
        except errors.InvalidRequest as exc:
            message = _vault_message(exc)
            if decrypting and "not found" not in message:
                raise DecryptionError() from None
            raise self._error(message) from None
        except (binascii.Error, ValueError, KeyError, TypeError):
            if decrypting:
                raise DecryptionError() from None
            raise self._error("unexpected answer from the Transit engine") from None
        except errors.Forbidden:
            raise self._error(
                f"permission denied; the token needs update on {self._mount}/encrypt/"
                f"{self._key} and {self._mount}/decrypt/{self._key}"
            ) from None
        except errors.Unauthorized:
            raise self._error("authentication failed; check the token or AppRole") from None
        except errors.InvalidPath:
            raise self._error(
                f"no Transit engine mounted at '{self._mount}' (or no key '{self._key}')"
            ) from None
        except errors.VaultDown:
            raise self._error("Vault is sealed or in maintenance") from None
        except errors.VaultError as exc:
            raise self._error(f"Vault refused the request ({type(exc).__name__})") from None
        except Exception as exc:  # requests' connection/timeout errors, and anything else
            raise self._error(_transport_reason(exc)) from None

    def _error(self, reason: str) -> KeyProviderError:
        return KeyProviderError(NAME, self._addr, reason)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _vault_message(exc: Exception) -> str:
    """Vault's own first error text, without hvac's ', on post http://...' suffix."""
    errors = getattr(exc, "errors", None)
    first = str(errors[0]) if isinstance(errors, list) and errors else str(exc)
    return first.split(", on ")[0][:200]


def _transport_reason(exc: Exception) -> str:
    kinds = {c.__name__ for c in type(exc).__mro__}
    if kinds & {"ConnectTimeout", "ReadTimeout", "Timeout"}:
        return "unreachable (timed out)"
    if kinds & {"ConnectionError", "SSLError"}:
        return "unreachable (connection failed)"
    if kinds & {"InvalidURL", "MissingSchema", "InvalidSchema"}:
        return "invalid Vault address"
    return f"request failed ({type(exc).__name__})"
