"""Issuer and role documents (claim paths, globs, what is refused) and the JWKS cache of a
``jwks_url`` issuer against a real JWKS over HTTP (bounded cache, fetched again on an unknown
``kid`` at most every ``REFETCH_SECONDS``)."""

from __future__ import annotations

import pytest

from blocks.access.jwt_config import claim, parse_issuer, parse_role
from blocks.errors import Unauthorized, ValidationError
from blocks.server.jwt_login import REFETCH_SECONDS, JwksCache
from tests.access.jwt_helpers import ISS, claims, ec_key, jwks, rsa_key, serve_jwks

K8S = claims()


def test_claim_paths_reach_nested_kubernetes_claims() -> None:
    assert claim(K8S, "kubernetes.io.namespace") == "etl"
    assert claim(K8S, "kubernetes.io.serviceaccount.name") == "worker"
    assert claim(K8S, "sub") == "system:serviceaccount:etl:worker"
    assert claim({"a.b": "flat", "a": {"b": "nested"}}, "a.b") == "flat"
    assert claim(K8S, "kubernetes.io.missing") is None


@pytest.mark.parametrize(("bound", "accepted"), [
    ({"bound_claims": {"kubernetes.io.namespace": "etl"}}, True),
    ({"bound_claims": {"kubernetes.io.namespace": ["prod", "et?"]}}, True),
    ({"bound_claims": {"kubernetes.io.namespace": "prod"}}, False),
    ({"bound_subject": "system:serviceaccount:etl:*"}, True),
    ({"bound_subject": "system:serviceaccount:prod:*"}, False),
    ({"bound_claims": {"repository": "acme/*"}}, False),  # a missing claim never matches
    ({"bound_claims": {"aud": "blo*"}}, True),  # a list claim: one element matches
    ({"bound_subject": "*", "bound_audiences": ["other"]}, False),
])
def test_a_role_accepts_the_claims_its_globs_match(bound: dict[str, object],
                                                   accepted: bool) -> None:
    role = parse_role("r", {"issuer": "k8s", "token_policies": ["p"], **bound})
    assert (role.refusal(K8S) is None) is accepted
    github = {"repository": "acme/app", "sub": "repo:acme/app:ref:refs/heads/main"}
    wanted = parse_role("gh", {"issuer": "gh", "token_policies": ["p"],
                               "bound_claims": {"repository": "acme/*"},
                               "bound_subject": "repo:acme/*:ref:refs/heads/main"})
    assert wanted.refusal(github) is None
    assert wanted.refusal({**github, "repository": "evil/app"}) is not None


@pytest.mark.parametrize(("document", "path"), [
    ({"jwks_url": "https://x", "audiences": ["a"], "algorithms": ["none"]}, "$.algorithms[0]"),
    ({"jwks_url": "https://x", "audiences": ["a"], "algorithms": ["HS256"]}, "$.algorithms[0]"),
    ({"jwks_url": "https://x", "audiences": []}, "$.audiences"),
    ({"jwks_url": "https://x", "audiences": ["a"], "extra": 1}, "$.extra"),
    ({"jwks_url": "https://x", "audiences": ["a"], "jwks_cache_seconds": 5},
     "$.jwks_cache_seconds"),
])
def test_a_bad_issuer_names_the_path(document: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_issuer("k8s", {"issuer": ISS, **document})
    assert any(p == path for p, _ in caught.value.errors), caught.value.errors


def test_the_jwks_cache_is_bounded_and_refetches_on_an_unknown_kid() -> None:
    now = [1000.0]
    old, new = rsa_key("old"), ec_key("new")
    with serve_jwks(jwks(old)) as served:
        issuer = parse_issuer("k8s", {"issuer": ISS, "jwks_url": served.url,
                                      "audiences": ["blocks"], "jwks_cache_seconds": 60})
        cache = JwksCache(clock=lambda: now[0])
        assert cache.key(issuer, "old") is not None and len(served.hits) == 1
        assert cache.key(issuer, "old") is not None and len(served.hits) == 1
        served.document = jwks(old, new)
        assert cache.key(issuer, "new") is None and len(served.hits) == 1  # just fetched
        now[0] += REFETCH_SECONDS + 1
        assert cache.key(issuer, "new") is not None and len(served.hits) == 2  # unknown kid
        now[0] += 61
        served.document = jwks(new)
        assert cache.key(issuer, "old") is None and len(served.hits) == 3  # cache too old
        served.document = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}
        now[0] += 61
        with pytest.raises(Unauthorized, match="is not usable"):
            cache.key(issuer, "new")
    now[0] += 61
    with pytest.raises(Unauthorized, match="could not be fetched"):
        cache.key(issuer, "new")


def test_a_principal_name_fits_the_rotation_events_actor_column() -> None:
    from blocks.access.jwt_sessions import MAX_NAME, principal_name

    assert principal_name("etl", "system:serviceaccount:etl:worker") == \
        "jwt:etl:system:serviceaccount:etl:worker"
    long = principal_name("r" * 63, "s" * 500)
    assert len(long) == MAX_NAME and len("terraform:" + long) <= 200
