"""When to try again: a greylisting-aware schedule, the receiver's own hints, deadlines.

The first retry comes after ``first`` seconds (5 minutes by default: a greylisting receiver lets
the same IP and envelope through after a few minutes), then the interval grows by ``factor`` up
to ``max_interval``. A receiver that says how long to wait ("try again in 10 minutes") is obeyed
when that is longer. No retry is scheduled past the message's deadline or its maximum age
(RFC 5321 4.5.4.1: give up after 4-5 days): the recipient is ``expired`` instead.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from mailfate.errors import ConfigError, InputError

__all__ = ["MAX_DURATION", "RetryPolicy", "parse_duration"]

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
}
MAX_DURATION = 100 * 366 * 86400.0
"""The longest duration :func:`parse_duration` accepts (about 100 years): longer ones are typos, and
would overflow date arithmetic."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


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


def parse_duration(text: str | float, *, maximum: float = MAX_DURATION) -> float:
    """``"10m"``, ``"90s"``, ``"1h30m"``, ``"2d"``, ``"600"`` (or a number) → seconds.

    InputError unless the result is finite, > 0 and at most ``maximum`` seconds (by default
    :data:`MAX_DURATION`, so that ``now ± timedelta(seconds=...)`` can never overflow).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        try:
            seconds = float(text)
        except OverflowError:  # an int past the floats
            seconds = math.inf
        return _bounded(seconds, f"{seconds:g}", maximum)
    compact = str(text).strip().lower()
    if not compact:
        raise InputError("empty duration; give e.g. 10m, 90s, 1h")
    total, pos = 0.0, 0
    for match in _DURATION.finditer(compact):
        if match.start() != pos and compact[pos : match.start()].strip():
            break
        unit = match.group(2) or "s"
        scale = _UNITS.get(unit) or _UNITS.get(unit.rstrip("s"))
        if scale is None:
            raise InputError(f"duration {text!r}: unknown unit {unit!r}; use s, m, h or d")
        total += float(match.group(1)) * scale
        pos = match.end()
        while pos < len(compact) and compact[pos] == " ":
            pos += 1
    if pos != len(compact) or total <= 0:
        raise InputError(f"duration {text!r}: give e.g. 10m, 90s, 1h30m, 2d")
    return _bounded(total, repr(text), maximum)


def _bounded(seconds: float, given: str, maximum: float) -> float:
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"duration {given}: give a finite number of seconds > 0")
    if seconds > min(maximum, MAX_DURATION):
        raise InputError(f"duration {given}: at most {min(maximum, MAX_DURATION) / 86400:g} days")
    return seconds
