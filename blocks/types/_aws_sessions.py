"""boto3 sessions and clients of the AWS and MinIO credentials blocks, cached by the block's
field values (secrets included, hashed): equal blocks share them, an assumed role is renewed
before its temporary credentials expire, and STS is asked once per role at a time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from blocks.types._aws_params import AwsClientParameters, ClientType

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Temporary role credentials are renewed this long before they expire.
_RENEW_BEFORE = timedelta(minutes=5)
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


class Boto3Clients:
    """Cached boto3 sessions and clients for a credentials block (AWS or MinIO).

    The block supplies ``aws_client_parameters``, ``_fingerprint()`` (a hash of every field
    the session depends on, secrets included; never shown) and ``_new_session()``.
    """

    if TYPE_CHECKING:
        aws_client_parameters: AwsClientParameters

        def _fingerprint(self) -> str: ...

        def _new_session(self) -> tuple[Any, datetime | None]: ...

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
        return _session(self._fingerprint(), self._new_session)

    def get_client(self, service: str | ClientType, **client_kwargs: Any) -> Any:
        """A boto3 client for ``service`` (``"s3"``, ``"sts"``, ...).

        Args:
            service: boto3 service name, or a :class:`ClientType` (prefect-aws's enum).
            **client_kwargs: extra ``Session.client`` arguments; they override
                ``aws_client_parameters``. Clients without extra arguments are cached.

        Returns:
            The boto3 client.

        Raises:
            MissingExtraError: boto3 is not installed (extra ``aws``).
        """
        name = service.value if isinstance(service, ClientType) else service
        return _client(
            self._fingerprint(), self._new_session, name,
            self.aws_client_parameters.client_kwargs(), client_kwargs,
        )

    def get_s3_client(self) -> S3Client:
        """The (cached) boto3 S3 client, as prefect-aws's ``get_s3_client``."""
        client: S3Client = self.get_client("s3")
        return client


SessionFactory = Callable[[], tuple[Any, datetime | None]]


def _as_datetime(expiry: Any) -> datetime | None:
    # STS gives a datetime; a stand-in (a test double, a proxy) may give ISO text.
    if expiry is None or isinstance(expiry, datetime):
        return expiry
    parsed = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry_locked(key: str, new_session: SessionFactory) -> _Cached:
    entry = _cache.get(key)
    if entry is not None and (
        entry.expiry is None or entry.expiry - datetime.now(UTC) > _RENEW_BEFORE
    ):
        _cache.move_to_end(key)
        return entry
    session, expiry = new_session()
    entry = _cache[key] = _Cached(session, _as_datetime(expiry))
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return entry


def _session(key: str, new_session: SessionFactory) -> Any:
    with _cache_lock:
        return _entry_locked(key, new_session).session


def _client(
    key: str, new_session: SessionFactory, service: str,
    base_kwargs: dict[str, Any], client_kwargs: dict[str, Any],
) -> Any:
    with _cache_lock:
        entry = _entry_locked(key, new_session)
        if not client_kwargs and service in entry.clients:
            return entry.clients[service]
        client = entry.session.client(service, **{**base_kwargs, **client_kwargs})
        if not client_kwargs:
            entry.clients[service] = client
        return client
