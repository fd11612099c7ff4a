"""``rate-limit``: at most ``messages`` accepted messages per ``window`` seconds per client IP.

Past the limit every RCPT of the domain from that IP gets ``rate_limited`` (421 4.7.0) until the
oldest message of the window is ``window`` seconds old. Counted per accepted message (in
``after_accept``), with the injected clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.simulator.model import AcceptedMessage, Personality, RcptContext, Reply, ReportSink, Services

__all__ = ["RateLimit"]

MAX_CLIENTS = 100_000


class RateLimit(Personality):
    """A sliding window of accepted messages per client IP."""

    name: ClassVar[str] = "rate-limit"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        unknown = sorted(set(self.options) - {"messages", "window"})
        if unknown:
            raise ConfigError(f"{self.name}: unknown option {unknown[0]!r}; known: messages, window")
        messages = self.options.get("messages", 10)
        window = self.options.get("window", 60)
        if isinstance(messages, bool) or not isinstance(messages, int) or not 1 <= messages <= 10**6:
            raise ConfigError(
                f"{self.name}: messages = {messages!r} must be a whole number from 1; write e.g. 10"
            )
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window <= 86400:
            raise ConfigError(
                f"{self.name}: window = {window!r} must be seconds in (0, 86400]; write e.g. 60"
            )
        self.messages = messages
        self.window = float(window)
        self.seen: dict[str, deque[float]] = {}

    def _recent(self, client_ip: str, now: float) -> deque[float]:
        times = self.seen.get(client_ip)
        if times is None:
            if len(self.seen) >= MAX_CLIENTS:
                del self.seen[next(iter(self.seen))]
            times = self.seen[client_ip] = deque(maxlen=self.messages)
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        times = self._recent(ctx.session.client_ip, self.services.clock.monotonic())
        return ctx.replies.get("rate_limited") if len(times) >= self.messages else None

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        now = self.services.clock.monotonic()
        self._recent(message.session.client_ip, now).append(now)

    def reset(self) -> None:
        self.seen.clear()
