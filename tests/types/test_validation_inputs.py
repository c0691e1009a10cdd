"""Issue 13, point 11: pydantic errors of our models never carry the input values.

pydantic puts the offending input (for a model-level error, the whole document, secrets included)
into ``errors()`` and ``json()``; ``model_validate`` of any built-in type, and of the nested
models they use, must not. ``Secret.load("../x")`` is an :class:`InvalidName`.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from blocks import GitHubCredentials, Registry, Secret, catalog
from blocks.core import Block
from blocks.errors import InvalidName
from blocks.types.aws import AwsClientParameters

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

MARK = "sekret-input-4b1d"
BUILT_IN = sorted(
    (cls for cls in catalog.all_types().values() if cls.__module__.startswith("blocks.types.")),
    key=lambda cls: cls.block_type_slug,
)


def _leaks(exc: pydantic.ValidationError) -> bool:
    texts = [str(exc), repr(exc), exc.json(), repr(exc.errors()),
             repr(exc.errors(include_context=True))]
    return any(MARK in text for text in texts)


def _hostile(cls: type[Block]) -> dict[str, Any]:
    data: dict[str, Any] = {"not_a_field": MARK}
    for name, info in cls.model_fields.items():
        data[info.alias or name] = {"x": MARK, "y": [MARK, 1.5]}
    return data


def test_there_are_built_in_types_to_check() -> None:
    assert {"secret", "aws-credentials", "github-credentials", "s3-bucket"} <= {
        cls.block_type_slug for cls in BUILT_IN
    }


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda cls: cls.block_type_slug)
def test_model_validate_errors_carry_no_input(cls: type[Block]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        cls.model_validate(_hostile(cls))
    assert caught.value.errors() and not _leaks(caught.value)
    with pytest.raises(pydantic.ValidationError) as caught:
        cls.model_validate_json(json.dumps(_hostile(cls)))
    assert not _leaks(caught.value)
    with pytest.raises(pydantic.ValidationError) as caught:
        cls.model_validate_strings({"not_a_field": MARK})
    assert not _leaks(caught.value)


def test_error_paths_and_messages_are_kept() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        GitHubCredentials.model_validate({"token": f"has spaces {MARK}"})
    (err,) = caught.value.errors()
    assert err["loc"] == ("token",) and "without spaces" in err["msg"]
    assert not _leaks(caught.value)


def test_nested_model_errors_carry_no_input() -> None:
    from blocks import AwsCredentials

    with pytest.raises(pydantic.ValidationError) as caught:
        AwsCredentials.model_validate({
            "aws_secret_access_key": MARK,
            # verify takes a bool or a CA bundle path (prefect-aws), so a list is the bad value
            "aws_client_parameters": {"verify": [MARK], "bogus": MARK},
        })
    locs = {err["loc"] for err in caught.value.errors()}
    assert ("aws_client_parameters", "verify", "bool") in locs  # one error per member type
    assert not _leaks(caught.value)
    for attempt in (lambda: AwsClientParameters.model_validate({"verify": [MARK]}),
                    lambda: AwsClientParameters(verify=[MARK]),
                    lambda: AwsClientParameters.model_validate_json(f'{{"x": "{MARK}"}}')):
        with pytest.raises(pydantic.ValidationError) as caught:
            attempt()
        assert not _leaks(caught.value)
    params = AwsClientParameters()
    with pytest.raises(pydantic.ValidationError) as caught:
        params.verify = [MARK]  # type: ignore[assignment]
    assert not _leaks(caught.value)


def test_valid_documents_still_validate() -> None:
    assert Secret.model_validate({"value": "x"}).get() == "x"
    assert AwsClientParameters.model_validate({"verify": False}).verify is False
    # Terraform sends this bool-or-path field as text
    assert AwsClientParameters.model_validate({"verify": "false"}).verify is False
    assert AwsClientParameters.model_validate({"verify": "TRUE"}).verify is True
    assert AwsClientParameters.model_validate({"verify": "/etc/ca.pem"}).verify == "/etc/ca.pem"


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "..", "a/../b", "./x", "%2e%2e/x"])
def test_load_of_a_path_like_name_is_invalid_name(name: str, registry: Registry) -> None:
    with pytest.raises(InvalidName):
        Secret.load(name, registry=registry)
    with pytest.raises(InvalidName):
        Block.load(name, registry=registry)
