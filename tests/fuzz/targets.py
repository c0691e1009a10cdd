"""Fuzz targets of the decoder paths: each takes untrusted bytes and may raise only BlocksError.

Shared by the hypothesis tests (``test_decoders.py``, a fixed budget in CI) and the atheris
driver (``atheris_main.py``, for long runs by hand). Anything but a :class:`BlocksError` (or a
diagnostic, for Terraform) escaping a target is a finding.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from blocks import Registry, Secret, Settings, catalog, codec
from blocks.core import Block
from blocks.crypto import envelope
from blocks.errors import BlocksError

TYPES: list[type[Block]] = sorted(
    (c for c in catalog.all_types().values() if c.__module__.startswith("blocks.types.")),
    key=lambda c: c.block_type_slug,
)


def _refusing_resolver(block_id: str, expected: type[Block]) -> Block:
    raise ValueError("no references while fuzzing")


def codec_decode(data: bytes) -> None:
    """A stored document (after decryption) decoded as each built-in type."""
    for cls in TYPES:
        with contextlib.suppress(BlocksError):
            codec.decode(cls, data, _refusing_resolver, f"{cls.block_type_slug}/fuzz")


KEY = bytes(range(32))
AAD = envelope.binding("00000000-0000-0000-0000-000000000000", "secret", 1)


def envelope_open(data: bytes) -> None:
    """A stored ciphertext blob opened with the right key and binding."""
    with contextlib.suppress(BlocksError):
        envelope.unseal(KEY, data, AAD)


@dataclass
class KeyringTarget:
    """A real registry (SQLite, local key) whose keyring unwraps fuzzed data keys."""

    registry: Registry

    @classmethod
    def create(cls, home: str) -> KeyringTarget:
        registry = Registry(Settings(home=home, master_key=None))
        registry.init()
        Secret(value="fuzz").save("seed", registry=registry)
        return cls(registry)

    def unwrap(self, data: bytes) -> None:
        """A stored wrapped data key (and term number) unwrapped by the keyring, and a stored
        keyring term unwrapped by the local master-key provider."""
        keyring = self.registry.keyring
        term = data[0] % 4 if data else 1
        with contextlib.suppress(BlocksError):
            keyring.unwrap_data_key(term, data[1:], AAD)
        with contextlib.suppress(BlocksError):
            keyring.provider.unwrap(data, {"purpose": "blocks-keyring-term", "term": "1"})


def cli_save_input(data: bytes, registry: Registry) -> None:
    """What ``blocks save TYPE/NAME -f FILE`` does with the file's bytes, up to sealing."""
    try:
        document = codec.parse_json(data, "secret/fuzz", source="FILE")
    except BlocksError:
        return
    for cls in TYPES:
        try:
            block = registry.parse(cls.block_type_slug, document,
                                   ref=f"{cls.block_type_slug}/fuzz")
            codec.encode(block)
        except BlocksError:
            pass


def terraform_json_attribute(data: bytes, provider: Any) -> None:
    """A JSON attribute's text (``data`` of ``blocks_block``, ``value_json`` of
    ``blocks_secret``) through the provider's validate and plan-time checks; problems must be
    diagnostics, not exceptions."""
    from tf.utils import Diagnostics

    text = data.decode("utf-8", errors="replace")
    classes = {c.get_name(): c for c in provider.get_resources()}
    for name, values in (
        ("block", {"type": "secret", "name": "fuzz", "data": text}),
        ("block", {"type": "github-repository", "name": "fuzz", "data": text}),
        ("secret", {"name": "fuzz", "value_json": text}),
    ):
        resource = provider.new_resource(classes[name])
        config: dict[str, Any] = {a.name: None for a in resource.get_schema().attributes}
        config.update(values)
        diags = Diagnostics()
        resource.validate(diags, f"blocks_{name}", config)
        if diags.has_errors():
            continue
        if hasattr(resource, "check_config"):
            resource.check_config(diags, config)


def terraform_provider(home: str) -> Any:
    """A configured provider object (no Terraform process) using the registry at ``home``."""
    from tf.utils import Diagnostics

    from blocks_terraform.provider import BlocksProvider

    provider = BlocksProvider()
    provider.configure_provider(Diagnostics(), {"home": home, "database_url": None})
    return provider
