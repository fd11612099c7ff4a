"""Per-key rate limits (GCRA: a token bucket kept as one timestamp per key).

``RateLimiter(rate, burst)`` lets each key send ``rate`` requests per second on average and up to
``burst`` at once; :meth:`RateLimiter.check` answers 0 (go) or the seconds to wait, which the HTTP
API returns as ``429`` with ``Retry-After`` and the SMTP submission server as ``451 4.7.0``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(1.0, burst if burst is not None else rate)
        self.clock = clock
        self._tat: dict[str, float] = {}

    def check(self, key: str) -> float:
        """0.0 and one request counted, or the seconds until ``key`` may send again."""
        now = self.clock()
        tat = max(self._tat.get(key, now), now)
        ahead = tat - now  # how far this key has borrowed into the future
        if ahead > self.tolerance - self.interval + 1e-9:  # (a little slack for float rounding)
            return max(ahead - (self.tolerance - self.interval), 1e-6)
        self._tat[key] = tat + self.interval
        if len(self._tat) > 100_000:  # forget keys that are idle (their bucket is full again)
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return 0.0
