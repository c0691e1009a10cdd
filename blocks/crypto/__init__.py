"""Envelope encryption and the keyring. Hazardous materials: low-level.

These functions take raw keys and produce raw ciphertext; misusing them (reusing a data key,
choosing nonces, dropping the associated data) breaks the guarantees. Application code uses
:class:`blocks.Registry` and :class:`blocks.Block`, which never expose keys or nonces.
"""
