"""When to try again: a greylisting-aware schedule, the receiver's own hints, deadlines.

The first retry comes after ``first`` seconds (5 minutes by default: a greylisting receiver lets
the same IP and envelope through after a few minutes), then the interval grows by ``factor`` up
to ``max_interval``. A receiver that says how long to wait ("try again in 10 minutes") is obeyed
when that is longer. No retry is scheduled past the message's deadline or its maximum age
(RFC 5321 4.5.4.1: give up after 4-5 days): the recipient is ``expired`` instead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from mailfate.errors import ConfigError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first: float = 300.0
    factor: float = 2.0
    max_interval: float = 4 * 3600.0
    max_age: float = 5 * 86400.0
    jitter: float = 0.1

    def interval(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` attempts (≥ 1), before jitter and hints."""
        return min(self.max_interval, self.first * self.factor ** max(0, attempts - 1))

    def next_attempt(
        self,
        *,
        attempts: int,
        now: datetime,
        created_at: datetime,
        deadline: datetime | None,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> tuple[datetime | None, str]:
        """``(when, "")`` for the next attempt, or ``(None, "deadline" | "max_age")`` to give up."""
        wait = self.interval(attempts)
        if self.jitter:
            wait *= 1 + (rng or random.Random()).uniform(-self.jitter, self.jitter)
        if retry_after is not None and wait < retry_after <= self.max_interval:
            wait = retry_after
        when = now + timedelta(seconds=wait)
        if deadline is not None and when >= deadline:
            return None, "deadline"
        if when >= created_at + timedelta(seconds=self.max_age):
            return None, "max_age"
        return when, ""

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> RetryPolicy:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - names)
        if unknown:
            raise ConfigError(f"retry.{unknown[0]}: unknown; known: {', '.join(sorted(names))}")
        values: dict[str, float] = {}
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"retry.{key} = {value!r}: give a number >= 0")
            values[key] = float(value)
        policy = cls(**values)
        if policy.first <= 0 or policy.factor < 1 or policy.jitter >= 1:
            raise ConfigError("retry: first must be > 0, factor >= 1, jitter < 1")
        return policy
