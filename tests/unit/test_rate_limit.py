"""The per-caller token bucket behind the analytics event limit."""

from __future__ import annotations

from discovery.api.rate_limit import RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_its_burst_then_waits_for_tokens_to_come_back() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.allow("a")
    assert 19.0 < wait <= 20.0 and retry_after(wait) == 20
    assert limiter.allow("b") == 0.0  # callers are counted apart
    clock.now += 20.0
    assert limiter.allow("a") == 0.0


def test_memory_stays_bounded_by_forgetting_the_least_recent_caller() -> None:
    limiter = RateLimiter(per_minute=1, max_callers=2, clock=Clock())
    for caller in ("a", "b", "c"):
        limiter.allow(caller)
    assert limiter.allow("a") == 0.0  # forgotten, so a full bucket again
    assert limiter.allow("c") > 0.0
