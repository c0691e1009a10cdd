"""Issue 13, point 8: reference cycles are refused at save with the chain named, and chains of
references are bounded (no ``RecursionError``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from blocks import Block, Registry, Secret
from blocks.errors import BlocksError, ReferenceChainError, ValidationError
from blocks.references import MAX_REFERENCE_DEPTH

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

class TestLink(Block):
    """A block that may reference another block of its own type."""

    __test__ = False
    block_type_slug = "test-link"

    label: str
    next: TestLink | None = None
    secret: Secret | None = None


def _chain(registry: Registry, length: int, prefix: str = "n") -> TestLink:
    """Save ``n0 <- n1 <- ... <- n{length-1}`` (each references the previous); returns the last."""
    block = TestLink(label="n0")
    registry.save(block, f"{prefix}0")
    for i in range(1, length):
        block = TestLink(label=f"n{i}", next=block)
        registry.save(block, f"{prefix}{i}")
    return block


def test_self_reference_is_refused_at_save(registry: Registry) -> None:
    a = TestLink(label="a")
    registry.save(a, "a")
    again = TestLink(label="a2", next=registry.load("test-link/a"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        registry.save(again, "a", overwrite=True)
    assert caught.value.errors == [(
        "next", "reference cycle: test-link/a -> test-link/a; a block cannot reference itself, "
                "even indirectly",
    )]
    assert registry.load("test-link/a").block_version == 1
    registry.delete("test-link/a")


def test_two_block_cycle_is_refused_with_the_chain(registry: Registry) -> None:
    registry.save(TestLink(label="a"), "a")
    b = TestLink(label="b", next=registry.load("test-link/a"))  # type: ignore[arg-type]
    registry.save(b, "b")
    a2 = TestLink(label="a2", next=registry.load("test-link/b"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        registry.save(a2, "a", overwrite=True)
    (path, message), = caught.value.errors
    assert path == "next"
    assert "reference cycle: test-link/a -> test-link/b -> test-link/a" in message
    # nothing was written: both still load and delete in order
    assert registry.load("test-link/a").block_version == 1
    registry.delete("test-link/b")
    registry.delete("test-link/a")


def test_longer_cycle_through_a_nested_field_is_refused(registry: Registry) -> None:
    last = _chain(registry, 4)
    first = registry.load("test-link/n0")
    assert isinstance(first, TestLink)
    closing = TestLink(label="n0-again", next=last)
    with pytest.raises(ValidationError, match=r"test-link/n0 -> test-link/n3 -> test-link/n2 "
                                              r"-> test-link/n1 -> test-link/n0"):
        registry.save(closing, "n0", overwrite=True)


def test_chain_at_the_bound_is_accepted_and_loads(registry: Registry) -> None:
    _chain(registry, MAX_REFERENCE_DEPTH + 1)
    top = registry.load(f"test-link/n{MAX_REFERENCE_DEPTH}")
    depth = 0
    node = top
    while isinstance(node, TestLink) and node.next is not None:
        node, depth = node.next, depth + 1
    assert depth == MAX_REFERENCE_DEPTH


def test_chain_past_the_bound_is_refused_with_a_clear_error(registry: Registry) -> None:
    top = _chain(registry, MAX_REFERENCE_DEPTH + 1)
    with pytest.raises(ValidationError) as caught:
        registry.save(TestLink(label="one too many", next=top), "too-deep")
    (path, message), = caught.value.errors
    assert path == "next"
    assert f"references nest {MAX_REFERENCE_DEPTH + 1} levels deep" in message
    assert f"at most {MAX_REFERENCE_DEPTH}" in message
    assert registry.summary(f"test-link/n{MAX_REFERENCE_DEPTH}").current_version == 1


@pytest.mark.local_only("stores a chain past the bound, which the server's save refuses: it "
                        "loads the referenced block as the client had it")
def test_chain_of_124_made_before_the_bound_loads_with_a_clear_error(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's chain of 124 references, as a release without the save check stored it:
    loading its top is one BlocksError, never a RecursionError; the save check sees it too."""
    from blocks import references

    monkeypatch.setattr(references, "MAX_REFERENCE_DEPTH", 200)
    _chain(registry, 125)
    monkeypatch.undo()
    with pytest.raises(ReferenceChainError, match="block references nest more than 32 levels"):
        registry.load("test-link/n124")
    assert registry.load("test-link/n30").block_version == 1
    with pytest.raises(ValidationError, match="references nest 33 levels deep"):
        registry.save(TestLink(label="x", next=registry.load("test-link/n32")),  # type: ignore[arg-type]
                      "n125")


def test_load_depth_is_bounded_without_recursion_error(registry: Registry) -> None:
    from blocks import codec

    _chain(registry, 3)
    original = codec.MAX_DECODE_DEPTH
    codec.MAX_DECODE_DEPTH = 2
    try:
        with pytest.raises(ReferenceChainError) as caught:
            registry.load("test-link/n2")
    finally:
        codec.MAX_DECODE_DEPTH = original
    assert isinstance(caught.value, BlocksError)
    assert "references nest more than 1 levels deep" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert registry.load("test-link/n2").block_version == 1
