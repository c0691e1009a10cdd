"""The error envelope: every BlocksError crosses the wire as the same class and message."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from blocks import errors, wire
from blocks.errors import BlocksError, ServerUnavailable

SERVER = "http://127.0.0.1:18101"

# One instance of every class of the error tree, made as the code raises it.
SAMPLES: list[BlocksError] = [
    errors.BlocksError("plain"),
    errors.ConfigurationError("invalid setting: BLOCKS_HOME (home): bad"),
    errors.BlockNotFound("no block secret/x; see 'blocks ls secret'"),
    errors.RegistryNotFound("no registry at /tmp/x"),
    errors.InvalidArgument("version must be 1 or more"),
    errors.UnknownBlockType("no block type 'nope'"),
    errors.WorkPoolNotFound("no work pool etl"),
    errors.WorkQueueNotFound("etl has no queue q"),
    errors.InvalidName("invalid block name 'A'"),
    errors.ValidationError("s3-bucket/lake", [("credentials.aws_access_key_id", "too short"),
                                              ("", "bad root")]),
    errors.ReferenceChainError("chain too deep"),
    errors.AuditUnavailable("the audit trail could not record the write, so it was not done"),
    errors.ConflictError("secret/x is at version 3, not the expected 2"),
    errors.BlockAlreadyExists("secret/x already exists"),
    errors.ReferencedBlockError("secret/x", ["s3-bucket/a", "s3-bucket/b"]),
    errors.BlockNotSaved("never saved"),
    errors.DecryptionError(),
    errors.IntegrityError("secret/x", "its current version is missing"),
    errors.KeyProviderError("vault-transit", "http://127.0.0.1:8200", "connection refused"),
    errors.KeyringError("term 3 is in use"),
    errors.StoreError("database error at postgresql://u@h/db: gone"),
    errors.RegistryLockedError(5.0),
    errors.Unauthorized("token expired"),
    errors.Forbidden("ci lacks the 'read' capability on block secret/admin"),
    errors.ServerUnavailable("no blocks server answered"),
    errors.GitError("git clone", 128, "fatal: not found"),
    errors.GitHubApiError("GitHub's API refused"),
    errors.RotationError("secret/x", "test", "the new credential was refused"),
    errors.PrefectError("the Prefect server refused"),
    errors.MissingExtraError("boto3", "aws", "S3Bucket"),
    errors.TokenNotFound("no token ci"),
    errors.PolicyNotFound("no policy readers"),
    errors.JwtConfigNotFound("no JWT role etl-worker"),
    errors.RateLimited(4),
    errors.BackupError("backup.blk was altered or truncated"),
    errors.RegistryNotEmpty("the registry holds 3 blocks; restore into an empty one"),
]
_config = errors.ConfigurationError("invalid setting: two")
_config.field_errors = [("home", "bad"), ("database_url", "worse")]
SAMPLES.append(_config)


def _all_classes() -> set[type[BlocksError]]:
    found: set[type[BlocksError]] = set()
    stack = [BlocksError]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return {c for c in found if c.__module__ == "blocks.errors"}


def _through_wire(exc: BlocksError) -> tuple[int, BlocksError]:
    status, body = wire.error_response(exc)
    text = json.dumps(body)  # what travels is JSON text
    with pytest.raises(BlocksError) as raised:
        wire.raise_from_wire(status, json.loads(text), SERVER)
    return status, raised.value


def _public(exc: BaseException) -> dict[str, Any]:
    return {k: v for k, v in vars(exc).items() if not k.startswith("_")}


def test_the_samples_cover_every_error_class() -> None:
    assert {type(e) for e in SAMPLES} == _all_classes()


@pytest.mark.parametrize("exc", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_comes_back_as_the_same_class_message_and_attributes(
        exc: BlocksError) -> None:
    status, back = _through_wire(exc)
    assert type(back) is type(exc)
    if status == 503:  # the database or key provider is down: the client names the server
        assert str(back) == f"{exc} (reported by the blocks server at {SERVER})"
    else:
        assert str(back) == str(exc)
    assert _public(back) == _public(exc)


def test_validation_errors_keep_their_field_paths() -> None:
    _, back = _through_wire(SAMPLES[9])
    assert isinstance(back, errors.ValidationError)
    assert back.ref == "s3-bucket/lake"
    assert back.errors == [("credentials.aws_access_key_id", "too short"), ("", "bad root")]


@pytest.mark.parametrize(("exc", "status"), [
    (errors.BlockNotFound("x"), 404), (errors.RegistryNotFound("x"), 404),
    (errors.WorkPoolNotFound("x"), 404), (errors.WorkQueueNotFound("x"), 404),
    (errors.BlockAlreadyExists("x"), 409), (errors.ConflictError("x"), 409),
    (errors.ReferencedBlockError("a/b", ["c/d"]), 409), (errors.IntegrityError("a/b"), 409),
    (errors.ValidationError("", []), 422), (errors.InvalidName("x"), 422),
    (errors.InvalidArgument("x"), 422), (errors.UnknownBlockType("x"), 422),
    (errors.Unauthorized("x"), 401), (errors.Forbidden("x"), 403),
    (errors.KeyProviderError("local", "f", "r"), 503), (errors.StoreError("x"), 503),
    (errors.RegistryLockedError(1.0), 503), (errors.DecryptionError(), 400),
    (errors.RotationError("a/b", "set", "r"), 400),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_statuses_follow_the_contract(exc: BlocksError, status: int) -> None:
    assert wire.status_of(exc) == status


@pytest.mark.parametrize("body", [None, "<html>Bad gateway</html>", {"detail": "Not Found"},
                                  {"error": "x"}, {"error": {"type": "BlockNotFound"}}])
def test_a_body_that_is_no_envelope_names_the_server(body: Any) -> None:
    with pytest.raises(ServerUnavailable, match=re.escape(
            "blocks server at http://127.0.0.1:18101 answered HTTP 502")):
        wire.raise_from_wire(502, body, SERVER)


def test_an_unknown_error_type_comes_back_as_a_blocks_error_with_its_message() -> None:
    body = {"error": {"type": "SomethingNewer", "message": "a newer server's error",
                      "details": {}}}
    with pytest.raises(BlocksError, match=r"^a newer server's error$") as raised:
        wire.raise_from_wire(400, body, SERVER)
    assert type(raised.value) is BlocksError
