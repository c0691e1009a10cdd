"""Version stages live in the block's sealed head: loads by stage, promotion, tampering."""

from __future__ import annotations

import pytest

from blocks import Registry, Secret
from blocks.errors import BlockNotFound, ConflictError, IntegrityError
from blocks.rotation import Rotation, RotationPolicy, set_rotation
from tests.registry_fixtures import backing
from tests.store.tamper import tamper

pytestmark = pytest.mark.over_http


def _rotated(registry: Registry) -> None:
    Secret(value="first-value-0123456789").save("tok", registry=registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=registry)
    assert registry.rotation().rotate("secret/tok", force=True).status == "rotated"


def test_block_load_by_stage(registry: Registry) -> None:
    _rotated(registry)
    assert Secret.load("tok", registry=registry).block_version == 2
    assert Secret.load("tok", stage="current", registry=registry).block_version == 2
    previous = Secret.load("tok", stage="previous", registry=registry)
    assert previous.block_version == 1 and previous.get() == "first-value-0123456789"
    with pytest.raises(BlockNotFound, match="no pending version"):
        Secret.load("tok", stage="pending", registry=registry)
    with pytest.raises(ValueError, match="stage must be one of"):
        registry.load("secret/tok", stage="latest")  # type: ignore[arg-type]


def test_staged_save_keeps_current(registry: Registry) -> None:
    Secret(value="one").save("s", registry=registry)
    info = registry.save(Secret(value="two"), "s", stage="pending", expected_version=1)
    assert info.version == 2
    assert registry.load("secret/s").get() == "one"
    assert registry.load("secret/s", stage="pending").get() == "two"
    assert registry.stages("secret/s") == {"current": 1, "pending": 2}
    registry.move_stages("secret/s", expected_current=1, current=2, pending=None, previous=1)
    assert registry.load("secret/s").get() == "two"
    assert registry.stages("secret/s") == {"current": 2, "previous": 1}
    with pytest.raises(ConflictError, match="not the expected 1"):
        registry.move_stages("secret/s", expected_current=1, current=1)


def test_a_save_during_a_rotation_makes_promotion_fail_not_lose_it(registry: Registry) -> None:
    from tests.rotation.contract import Crash, crash_at

    Secret(value="first-value-0123456789").save("tok", registry=registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=registry)
    with pytest.raises(Crash):
        Rotation(backing(registry), hook=crash_at("test", "recorded")).rotate(
            "secret/tok", force=True)
    Secret(value="edited-by-hand-0123").save("tok", overwrite=True, registry=registry)
    outcome = registry.rotation().rotate("secret/tok")
    assert outcome.status == "failed" and outcome.step == "promote"
    assert registry.load("secret/tok").get() == "edited-by-hand-0123"
    assert registry.rotation().cancel("secret/tok").status == "cancelled"
    assert registry.load("secret/tok").get() == "edited-by-hand-0123"


@pytest.mark.local_only("tampers with the local database directly")
def test_a_forged_stage_map_is_an_integrity_error(registry: Registry) -> None:
    _rotated(registry)
    tamper(registry.store.url, 'UPDATE block SET stages = \'{"current":1,"previous":2}\'')
    with pytest.raises(IntegrityError):
        registry.load("secret/tok", stage="previous")
    with pytest.raises(IntegrityError):
        registry.stages("secret/tok")


def test_an_ordinary_save_makes_the_replaced_current_previous(registry: Registry) -> None:
    _rotated(registry)
    rotated = registry.load("secret/tok").get()
    Secret(value="saved-by-hand-0123").save("tok", overwrite=True, registry=registry)
    # As AWS PutSecretValue moves AWSPREVIOUS: a holder of the credential just replaced
    # still finds it by its stage.
    assert registry.stages("secret/tok") == {"current": 3, "previous": 2}
    assert Secret.load("tok", stage="previous", registry=registry).get() == rotated
    Secret(value="saved-again-0123").save("tok", overwrite=True, registry=registry)
    assert registry.stages("secret/tok") == {"current": 4, "previous": 3}


def test_an_ordinary_save_keeps_a_rotation_in_flight_cancellable(registry: Registry) -> None:
    from tests.rotation.contract import Crash, crash_at

    Secret(value="first-value-0123456789").save("tok", registry=registry)
    set_rotation("secret/tok", RotationPolicy(rotator="generated"), registry=registry)
    with pytest.raises(Crash):
        Rotation(backing(registry), hook=crash_at("set", "recorded")).rotate(
            "secret/tok", force=True)
    Secret(value="edited-by-hand-0123").save("tok", overwrite=True, registry=registry)
    assert registry.stages("secret/tok") == {"current": 3, "pending": 2, "previous": 1}
    outcome = registry.rotation().rotate("secret/tok")
    assert outcome.status == "failed" and outcome.step == "promote"
    assert outcome.error is not None and "blocks rotate --cancel secret/tok" in outcome.error
    assert registry.rotation().cancel("secret/tok").status == "cancelled"
    assert registry.stages("secret/tok") == {"current": 3, "previous": 1}
    assert registry.load("secret/tok").get() == "edited-by-hand-0123"


def test_purging_a_staged_version_drops_its_label(registry: Registry) -> None:
    _rotated(registry)
    registry.purge("secret/tok", 1)
    assert registry.stages("secret/tok") == {"current": 2}
    with pytest.raises(BlockNotFound, match="no previous version"):
        registry.load("secret/tok", stage="previous")
    assert registry.rotation().rotate("secret/tok", force=True).status == "rotated"
