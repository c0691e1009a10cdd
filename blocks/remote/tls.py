"""What the client trusts for the ``blocks server``'s TLS certificate.

By default the HTTP client's own CA bundle (or ``SSL_CERT_FILE``, which replaces it for the
whole process). ``BLOCKS_API_CA_FILE`` names a PEM bundle trusted for the blocks server's
connections only, so a private CA needs no process-wide change and public HTTPS calls of the
same process keep their default bundle.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from blocks.errors import ConfigurationError

_FIX = "point it at the PEM file of the CA that signed the blocks server's certificate"


def server_trust(ca_file: Path | None) -> ssl.SSLContext | bool:
    """The ``verify`` of the HTTP client: ``True`` (the default bundle) without ``ca_file``,
    else a context that trusts exactly the certificates in ``ca_file``.

    Raises:
        ConfigurationError: ``ca_file`` is missing, unreadable, or holds no PEM certificate
            (names BLOCKS_API_CA_FILE and the path).
    """
    if ca_file is None:
        return True
    where = f"BLOCKS_API_CA_FILE {str(ca_file)[:300]!r}"
    path = Path(ca_file).expanduser()
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigurationError(f"{where} {reason}: {_FIX}")
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{where} cannot be read ({exc.strerror or type(exc).__name__}): {_FIX}") from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigurationError(f"{where} holds no PEM certificate: {_FIX}")
    try:  # with a cafile, only its certificates are trusted (not the default bundle)
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(path))
    except ssl.SSLError:
        raise ConfigurationError(
            f"{where} holds a certificate that does not load (damaged PEM?): {_FIX}") from None
