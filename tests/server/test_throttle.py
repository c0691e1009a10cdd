"""Per-address lock-outs after repeated failed authentications (the throttle on its own; the
HTTP behaviour is in test_tokens.py)."""

from __future__ import annotations

import pytest

from blocks.errors import RateLimited
from blocks.server.auth import Throttle


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lock_outs_double_after_the_free_failures_and_a_success_clears_them() -> None:
    clock = Ticks()
    throttle = Throttle(free=3, base=2.0, longest=10.0, clock=clock)
    for _ in range(3):
        throttle.check("10.0.0.1")
        throttle.failed("10.0.0.1")
    throttle.check("10.0.0.1")  # three failures are free
    throttle.failed("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        throttle.check("10.0.0.1")
    assert caught.value.retry_after == 2
    throttle.check("10.0.0.2")  # other addresses are not affected
    clock.now += 2.0
    throttle.check("10.0.0.1")
    throttle.failed("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        throttle.check("10.0.0.1")
    assert caught.value.retry_after == 4
    for _ in range(5):
        clock.now += 10.0
        throttle.failed("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        throttle.check("10.0.0.1")
    assert caught.value.retry_after == 10  # at most `longest`
    throttle.succeeded("10.0.0.1")
    throttle.check("10.0.0.1")


def test_an_address_is_forgotten_after_a_quiet_period_and_memory_is_bounded() -> None:
    clock = Ticks()
    throttle = Throttle(free=1, base=1.0, forget=60.0, clock=clock, size=3)
    throttle.failed("a")
    throttle.failed("a")
    with pytest.raises(RateLimited):
        throttle.check("a")
    clock.now += 61
    throttle.check("a")
    throttle.failed("a")  # counts from zero again: free
    throttle.check("a")
    for address in ("b", "c", "d", "e"):
        throttle.failed(address)
    assert len(throttle._state) == 3
