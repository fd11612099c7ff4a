"""The per-key limiter: the burst passes, then the rate; keys do not share a bucket."""

from __future__ import annotations

import pytest

from mailfate.intake.ratelimit import RateLimiter


def test_burst_then_rate_per_key() -> None:
    now = [100.0]
    limit = RateLimiter(10, burst=5, clock=lambda: now[0])
    assert [limit.check("a") for _ in range(5)] == [0.0] * 5
    wait = limit.check("a")
    assert wait == pytest.approx(0.1)
    assert limit.check("b") == 0.0  # another key, its own bucket
    now[0] += wait
    assert limit.check("a") == 0.0
    assert limit.check("a") > 0
    now[0] += 10  # idle: the bucket is full again
    assert [limit.check("a") for _ in range(5)] == [0.0] * 5


def test_sustained_rate_is_held() -> None:
    now = [0.0]
    limit = RateLimiter(100, burst=1, clock=lambda: now[0])
    passed = 0
    for _ in range(10_000):  # 10,000 tries over one second
        now[0] += 0.0001
        passed += limit.check("k") == 0.0
    assert 99 <= passed <= 101


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
