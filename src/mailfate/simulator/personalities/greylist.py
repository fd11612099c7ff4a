"""``greylist``: the first attempt of an unseen (client IP, MAIL FROM, RCPT TO) triplet is deferred.

Options: ``delay`` seconds before a retry passes (default ``[server] greylist_delay``, 300);
``pass_for`` seconds a passed triplet stays known (default 36 days, as postgrey). A retry before
the delay is deferred again without resetting the first-seen time. Time comes from the
injected clock; ``forget()`` (and ``reset()``) drop all state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.simulator.model import Personality, RcptContext, Reply, Services

__all__ = ["Greylist"]

MAX_TRIPLETS = 200_000
"""Remembered triplets per domain; beyond it the oldest are forgotten (memory stays bounded)."""


def _seconds(name: str, options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 366 * 86400:
        raise ConfigError(f"{name}: {key} = {value!r} must be seconds between 0 and 31622400")
    return float(value)


class Greylist(Personality):
    """Defer unseen triplets with ``greylisted`` (451 4.7.1) until ``delay`` has passed."""

    name: ClassVar[str] = "greylist"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        unknown = sorted(set(self.options) - {"delay", "pass_for"})
        if unknown:
            raise ConfigError(f"{self.name}: unknown option {unknown[0]!r}; known: delay, pass_for")
        self.delay = _seconds(self.name, self.options, "delay", 300.0)
        self.pass_for = _seconds(self.name, self.options, "pass_for", 36 * 86400.0)
        self.first_seen: dict[tuple[str, str, str], float] = {}
        self.passed: dict[tuple[str, str, str], float] = {}

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        now = self.services.clock.monotonic()
        triplet = (ctx.session.client_ip, ctx.mail_from.lower(), ctx.rcpt.lower())
        until = self.passed.get(triplet)
        if until is not None and now < until:
            self.passed[triplet] = now + self.pass_for
            return None
        first = self.first_seen.get(triplet)
        if first is None:
            if len(self.first_seen) >= MAX_TRIPLETS:
                del self.first_seen[next(iter(self.first_seen))]
            self.first_seen[triplet] = now
            first = now
        waited = now - first
        if waited < self.delay:
            return ctx.replies.get("greylisted").fill(delay=str(int(self.delay - waited + 0.999)))
        del self.first_seen[triplet]
        if len(self.passed) >= MAX_TRIPLETS:
            del self.passed[next(iter(self.passed))]
        self.passed[triplet] = now + self.pass_for
        return None

    def forget(self) -> int:
        """Forget every triplet; how many there were."""
        count = len(self.first_seen) + len(self.passed)
        self.first_seen.clear()
        self.passed.clear()
        return count

    def reset(self) -> None:
        self.forget()
