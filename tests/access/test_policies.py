"""Access policy documents: strict validation naming the JSON path, glob matching, and what a
principal is allowed (issue 20, point 4)."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.access import policies
from blocks.access.policies import CAPABILITIES
from blocks.access.principal import TokenPrincipal
from blocks.errors import Forbidden, ValidationError


def principal(*documents: dict[str, Any]) -> TokenPrincipal:
    return TokenPrincipal.of("worker", "id-1", [policies.parse(f"p{i}", d)
                                                for i, d in enumerate(documents)])


@pytest.mark.parametrize(("document", "path", "fix"), [
    ([], "$", "must be a JSON object"),
    ({"block": {}}, "$.block", "a policy has only blocks, pools, admin, description"),
    ({"blocks": []}, "$.blocks", "must be an object of pattern to capabilities"),
    ({"blocks": {"secret/app-*": "read"}}, '$.blocks["secret/app-*"]', "non-empty list"),
    ({"blocks": {"secret/app-*": []}}, '$.blocks["secret/app-*"]', "non-empty list"),
    ({"blocks": {"secret/app-*": ["reed"]}}, '$.blocks["secret/app-*"][0]',
     "'reed' is not a capability; use one of read, read-metadata"),
    ({"blocks": {"secret/app-*": ["read", 3]}}, '$.blocks["secret/app-*"][1]',
     "is not a capability"),
    ({"blocks": {"secret": ["read"]}}, '$.blocks["secret"]', "exactly one '/'"),
    ({"blocks": {"*": ["read"]}}, '$.blocks["*"]', "'*/*' for every block"),
    ({"blocks": {"a/b/c": ["read"]}}, '$.blocks["a/b/c"]', "use letters, digits"),
    ({"blocks": {"secret/[ab]": ["read"]}}, '$.blocks["secret/[ab]"]', "use letters, digits"),
    ({"pools": {"etl/x": ["read"]}}, '$.pools["etl/x"]', "without '/'"),
    ({"admin": "yes"}, "$.admin", "must be true or false"),
    ({"description": 5}, "$.description", "must be a string"),
])
def test_a_bad_policy_names_the_json_path_and_the_fix(
    document: Any, path: str, fix: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        policies.parse("app", document)
    assert any(p == path and fix in m for p, m in caught.value.errors), caught.value.errors
    assert "policy app" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        policies.parse("app", {"x": 1, "blocks": {"secret/a": ["nope"]}, "admin": 1})
    assert [p for p, _ in caught.value.errors] == ["$.x", "$.admin",
                                                   '$.blocks["secret/a"][0]']


def test_text_that_is_not_json_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValidationError, match="not valid JSON") as caught:
        policies.loads("app", '{"blocks": s3cr3t-value')
    assert "s3cr3t" not in str(caught.value)


def test_a_stored_document_is_canonical() -> None:
    policy = policies.parse("app", {"pools": {"etl": ["read-metadata"]},
                                    "blocks": {"secret/app-*": ["read"]}})
    assert policy.canonical() == ('{"blocks":{"secret/app-*":["read"]},'
                                  '"pools":{"etl":["read-metadata"]}}')


def test_a_token_for_secret_app_star_cannot_read_secret_admin() -> None:
    worker = principal({"blocks": {"secret/app-*": ["read"]}})
    assert worker.allows("read", "blocks", "secret/app-db")
    assert worker.allows("read-metadata", "blocks", "secret/app-db")  # read implies it
    assert not worker.allows("read", "blocks", "secret/admin")
    assert not worker.allows("read", "blocks", "secret/app-db/x")
    assert not worker.allows("read", "blocks", "aws-credentials/app-db")
    with pytest.raises(Forbidden) as caught:
        worker.require("read", "blocks", "secret/admin")
    assert "'read' capability on block 'secret/admin'" in str(caught.value)
    assert "token 'worker'" in str(caught.value)


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_each_capability_is_granted_only_where_given(capability: str) -> None:
    holder = principal({"blocks": {"secret/app-*": [capability]},
                        "pools": {"etl-*": [capability]}})
    for kind, inside, outside in (("blocks", "secret/app-1", "secret/other"),
                                  ("pools", "etl-nightly", "ml")):
        assert holder.allows(capability, kind, inside)
        assert not holder.allows(capability, kind, outside)
        with pytest.raises(Forbidden, match=f"'{capability}' capability on"):
            holder.require(capability, kind, outside)
    others = set(CAPABILITIES) - policies.implied(capability)
    for other in others:
        assert not holder.allows(other, "blocks", "secret/app-1"), other
        with pytest.raises(Forbidden, match=f"'{other}' capability on block 'secret/app-1'"):
            holder.require(other, "blocks", "secret/app-1")
    assert not holder.allows("admin", "admin", "*")


def test_admin_implies_everything_and_the_admin_objects() -> None:
    root = principal({"admin": True})
    for capability in CAPABILITIES:
        assert root.allows(capability, "blocks", "any/thing")
        assert root.allows(capability, "pools", "any")
    root.require("admin", "admin", "*")
    scoped = principal({"blocks": {"secret/*": ["admin"]}})
    assert scoped.allows("rotate", "blocks", "secret/x")
    assert not scoped.allows("read", "blocks", "aws-credentials/x")
    with pytest.raises(Forbidden, match="administration"):
        scoped.require("admin", "admin", "*")


def test_question_mark_and_star_do_not_cross_the_slash() -> None:
    holder = principal({"blocks": {"*/app-?": ["read"], "s?cret/db.*": ["write"]}})
    assert holder.allows("read", "blocks", "secret/app-1")
    assert not holder.allows("read", "blocks", "secret/app-12")
    assert holder.allows("write", "blocks", "secret/db.x")
    assert not holder.allows("write", "blocks", "secret/dbax")  # '.' is literal


def test_policies_add_up() -> None:
    holder = principal({"blocks": {"secret/a": ["read"]}}, {"blocks": {"secret/b": ["write"]}})
    assert holder.allows("read", "blocks", "secret/a")
    assert holder.allows("write", "blocks", "secret/b")
    assert not holder.allows("write", "blocks", "secret/a")


def test_an_unknown_capability_asked_by_a_route_is_a_programming_error() -> None:
    from blocks.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="use one of"):
        principal({"admin": True}).allows("raed", "blocks", "secret/a")
