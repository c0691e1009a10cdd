"""Keep SDK debug logging away from key-provider calls.

Hazardous materials: low-level. At DEBUG, botocore logs every request and response body, and a
KMS ``Encrypt`` request (or ``Decrypt`` answer) carries a keyring term key as ``Plaintext``;
urllib3, requests and hvac log less, but are covered the same way. While a provider call runs,
records of those loggers below WARNING are dropped and higher ones lose their text and
traceback; the application's own SDK calls, in other code or threads, log as before.

A logging filter applies only to records created by the logger it is attached to (not to
those propagated from children), so the filter is attached to every logger of those packages,
and again before each call to loggers created since.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "requests", "hvac")
# Loggers known to write bodies or headers, created up front in case a call imports them lazily.
_BODY_LOGGERS = (
    "botocore.endpoint", "botocore.parsers", "botocore.hooks", "botocore.auth",
    "botocore.httpsession", "botocore.retryhandler", "botocore.awsrequest",
    "botocore.retries.standard", "urllib3.connectionpool", "hvac.adapters",
)

_in_provider_call = contextvars.ContextVar("blocks_in_provider_call", default=False)
_attached: set[str] = set()
_lock = threading.Lock()
_known_loggers = -1


class _WithholdProviderCalls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _in_provider_call.get():
            return True
        if record.levelno < logging.WARNING:
            return False
        record.msg = "%s: %s during a Blocks key-provider call (details withheld)"
        record.args = (record.name, record.levelname)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


_FILTER = _WithholdProviderCalls()


def _attach() -> None:
    global _known_loggers
    registry = logging.root.manager.loggerDict
    if len(registry) == _known_loggers:
        return
    with _lock:
        for name in _BODY_LOGGERS:
            logging.getLogger(name)
        for name, logger in list(registry.items()):
            if (
                name not in _attached
                and isinstance(logger, logging.Logger)
                and (name in SDK_LOGGERS or name.startswith(tuple(f"{p}." for p in SDK_LOGGERS)))
            ):
                logger.addFilter(_FILTER)
                _attached.add(name)
        _known_loggers = len(registry)


@contextmanager
def provider_call() -> Iterator[None]:
    """Run a key-provider SDK call with SDK logging withheld (see the module docstring)."""
    _attach()
    token = _in_provider_call.set(True)
    try:
        yield
    finally:
        _in_provider_call.reset(token)
