"""Serving the provider as a Terraform plugin: :func:`serve` installs our servicer
(:class:`blocks_terraform.framework.Servicer`), a faster start-up certificate and the decoding
of refined unknowns into ``tf``'s module globals, then runs ``tf``'s plugin runner."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from tf import provider as tf_provider
from tf import runner
from tf import utils as tf_utils
from tf.iface import Provider
from tf.types import Unknown

from blocks_terraform import ephemeral
from blocks_terraform.framework import Servicer
from blocks_terraform.interrupt import ShutdownInterceptor, ignore_interrupts


def _cached_cert() -> tuple[bytes, Any]:
    """``tf``'s TLS certificate without parsing it on every start.

    ``tf`` caches its self-signed certificate but loads it with ``cryptography.x509`` to check
    the expiry, which costs about a fifth of the start-up budget. We keep the expiry next to
    ``tf``'s cache and only fall back to ``tf`` (which regenerates when needed) after it.
    """
    import base64
    import time

    import grpc

    cache = runner._get_cert_cache_path()
    expiry_file = cache.with_name("ssl_cert.not_after")
    try:
        if float(expiry_file.read_text()) > time.time() + 3600:
            cached = json.loads(cache.read_text())
            return base64.b64decode(cached["cert_chain"]), grpc.ssl_server_credentials(
                private_key_certificate_chain_pairs=[
                    (cached["key_pem"].encode(), cached["cert_pem"].encode())
                ],
                require_client_auth=False,
            )
    except (OSError, ValueError, KeyError):
        pass
    chain, credentials = _tf_cert()
    try:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(json.loads(cache.read_text())["cert_pem"].encode())
        expiry_file.write_text(str(cert.not_valid_after_utc.timestamp()))
    except (OSError, ValueError, KeyError):
        pass
    return chain, credentials


_tf_cert = runner._self_signed_cert

UNKNOWN_EXTENSIONS = (0, 12)
"""cty's msgpack extension codes of an unknown value: plain, and with refinements."""


def _msgpack_ext_hook(code: int, data: bytes) -> Any:
    return Unknown if code in UNKNOWN_EXTENSIONS else _tf_ext_hook(code, data)


_tf_ext_hook = tf_utils._msgpack_ext_hook


def serve(provider: Provider, argv: Iterable[str] | None = None) -> None:
    """Run ``provider`` as a Terraform plugin (prints the go-plugin handshake, then serves)."""
    # run_provider builds tf's servicer and certificate through module globals at call time;
    # ours replace them here (see ProviderServicer and _cached_cert).
    tf_provider.ProviderServicer = Servicer
    runner._self_signed_cert = _cached_cert
    tf_utils._msgpack_ext_hook = _msgpack_ext_hook
    runner._ShutdownInterceptor = ShutdownInterceptor  # see interrupt.py
    ephemeral.install()
    args = list(argv) if argv is not None else sys.argv
    ignore_interrupts(args)
    runner.run_provider(provider, args)
