"""Issue 13, point 12: fuzzing the decoder paths with hypothesis.

Codec decode, envelope open, keyring unwrap, CLI ``save`` input, Terraform JSON attributes and
the number, string and bool attributes of the typed resources, pools and queues:
no exception other than a :class:`BlocksError` (a diagnostic, for Terraform) over a fixed
budget. CI runs ``BLOCKS_FUZZ_EXAMPLES`` examples per target (default 100, a few seconds each);
by hand, ``BLOCKS_FUZZ_EXAMPLES=100000 python -m pytest tests/fuzz`` runs long, and
``python -m tests.fuzz.atheris_main TARGET`` drives the same targets with atheris.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocks import Registry, Settings
from tests.fuzz import targets, terraform_typed

EXAMPLES = int(os.environ.get("BLOCKS_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="CI" in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text(max_size=40))
JSON_VALUES = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def _nasty_text() -> st.SearchStrategy[bytes]:
    """JSON-ish text: real documents, mangled documents, deep nesting, odd numbers, bytes."""
    documents = JSON_VALUES.map(lambda v: json.dumps(v, allow_nan=True).encode())
    objects = st.dictionaries(st.sampled_from(
        ["value", "token", "repository_url", "credentials", "$ref", "aws_access_key_id",
         "url", "private_key", "account", "user", "bucket_name", "password"]),
        JSON_VALUES, max_size=4).map(lambda v: json.dumps(v, allow_nan=True).encode())
    deep = st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n)
    deep_objects = st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
    numbers = st.sampled_from([b"NaN", b"-Infinity", b"1e400", b"9" * 5000, b"-0",
                               b'{"value": 1e999}', b'{"value": "\\ud800"}'])
    mangled = st.tuples(documents | objects, st.binary(max_size=8), st.integers(0, 64)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2]:])
    return documents | objects | deep | deep_objects | numbers | mangled | st.binary(
        max_size=300)


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-home")


@pytest.fixture(scope="module")
def fuzz_registry(fuzz_home: Path) -> Iterator[Registry]:
    registry = Registry(Settings(home=fuzz_home))
    registry.init()
    yield registry
    registry.close()


@FUZZ
@given(data=_nasty_text())
def test_codec_decode_raises_only_blocks_errors(data: bytes) -> None:
    targets.codec_decode(data)


@FUZZ
@given(data=st.binary(max_size=200) | st.binary(min_size=29, max_size=60).map(
    lambda b: b"\x01" + b[1:]))
def test_envelope_open_raises_only_blocks_errors(data: bytes) -> None:
    targets.envelope_open(data)


@FUZZ
@given(data=st.binary(max_size=200))
def test_keyring_unwrap_raises_only_blocks_errors(data: bytes, fuzz_home: Path) -> None:
    _keyring_target(fuzz_home).unwrap(data)


_KEYRING: dict[Path, targets.KeyringTarget] = {}


def _keyring_target(home: Path) -> targets.KeyringTarget:
    if home not in _KEYRING:
        _KEYRING[home] = targets.KeyringTarget.create(str(home / "keyring"))
    return _KEYRING[home]


@FUZZ
@given(data=_nasty_text())
def test_cli_save_input_raises_only_blocks_errors(data: bytes, fuzz_registry: Registry) -> None:
    targets.cli_save_input(data, fuzz_registry)


@FUZZ
@given(data=_nasty_text())
def test_terraform_json_attributes_give_diagnostics_only(data: bytes, fuzz_home: Path) -> None:
    targets.terraform_json_attribute(data, _provider(fuzz_home))


@FUZZ
@given(data=st.binary(max_size=400))
def test_terraform_typed_resources_pools_and_queues_give_diagnostics_only(
    data: bytes, fuzz_home: Path
) -> None:
    terraform_typed.terraform_typed_config(data, _provider(fuzz_home))


_PROVIDERS: dict[Path, Any] = {}


def _provider(home: Path) -> Any:
    if home not in _PROVIDERS:
        _PROVIDERS[home] = targets.terraform_provider(str(home / "terraform"))
    return _PROVIDERS[home]
