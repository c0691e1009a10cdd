"""Rotation, verify and keys status through a server that checks real API tokens (the
default authenticator): each capability lets through exactly its calls, and the events
name the token that rotated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks import Registry, Secret
from blocks.access import policies
from blocks.access.store import AccessStore
from blocks.errors import Forbidden, Unauthorized
from blocks.remote.registry import RemoteRegistry
from blocks.rotation import (
    RotationPolicy,
    get_rotation,
    rotate,
    rotate_due,
    rotation_events,
    set_rotation,
)
from tests.server_fixtures import remote_settings, serve

FIRST = "first-value-0123456789"
POLICIES = {
    "app-rotate": {"blocks": {"secret/app-*": ["rotate", "read-metadata"]}},
    "app-read": {"blocks": {"secret/app-*": ["read"]}},
}


@pytest.fixture
def clients(served_registry: Registry) -> Iterator[dict[str, RemoteRegistry]]:
    """Remote registries with the admin token, a rotating token, a reading token, none."""
    access = AccessStore(served_registry.store, served_registry.sealer)
    tokens = {"admin": access.initialize()[0]}
    for name, document in POLICIES.items():
        access.put_policy(name, policies.parse(name, document))
        tokens[name] = access.create_token(f"{name}-token", [name])[0]
    with serve(served_registry) as url:
        made = {name: RemoteRegistry(remote_settings(url, token))
                for name, token in {**tokens, "none": None}.items()}
        yield made
        for reg in made.values():
            reg.close()


def test_each_token_does_what_its_policy_grants(
    clients: dict[str, RemoteRegistry], served_registry: Registry
) -> None:
    for name in ("app-db", "admin-db"):
        Secret(value=FIRST).save(name, registry=served_registry)
        set_rotation(f"secret/{name}", RotationPolicy(rotator="generated", interval="1d"),
                     registry=served_registry)
    rotator, reader = clients["app-rotate"], clients["app-read"]

    # rotate + read-metadata on secret/app-*: rotate it, see its policy and events ...
    assert rotate("secret/app-db", now=True, registry=rotator).status == "rotated"
    assert get_rotation("secret/app-db", registry=rotator) is not None
    assert {e.actor for e in rotation_events("secret/app-db", registry=rotator)} == {
        "api:app-rotate-token"}
    assert [o.ref for o in rotate_due(registry=rotator)] == []  # app-db is done; not admin-db
    assert rotator.rotation().due() == []
    # ... but not another block, nor verify / keys status.
    with pytest.raises(Forbidden, match="lacks the 'rotate' capability on block "
                                        "'secret/admin-db'"):
        rotate("secret/admin-db", now=True, registry=rotator)
    with pytest.raises(Forbidden, match="'read-metadata' capability on block 'secret/admin-db'"):
        get_rotation("secret/admin-db", registry=rotator)
    for call in (rotator.verify, rotator.keys_status):
        with pytest.raises(Forbidden, match="'admin'"):
            call()

    # read on secret/app-*: read the policy (read implies read-metadata), never rotate.
    assert get_rotation("secret/app-db", registry=reader) is not None
    with pytest.raises(Forbidden, match="'rotate' capability on block 'secret/app-db'"):
        rotate("secret/app-db", now=True, registry=reader)
    with pytest.raises(Forbidden, match="'rotate' capability on block 'secret/app-db'"):
        set_rotation("secret/app-db", RotationPolicy(rotator="generated"), registry=reader)
    assert reader.rotation().listing()[0].ref == "secret/app-db"
    assert len(reader.rotation().listing()) == 1  # admin-db is not shown

    # no token: 401 on every rotation call.
    with pytest.raises(Unauthorized):
        get_rotation("secret/app-db", registry=clients["none"])

    # the admin token: everything, verify included (tokens and policies are checked too).
    report = clients["admin"].verify()
    assert report.ok, report.problems
    assert report.checked["tokens"] == 3 and report.checked["versions"] == 3
    assert [o.ref for o in rotate_due(registry=clients["admin"])] == ["secret/admin-db"]
    assert served_registry.summary("secret/admin-db").current_version == 2
