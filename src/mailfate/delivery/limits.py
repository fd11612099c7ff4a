"""Per-destination budgets: concurrent sessions per receiving *site*, halved when the site pushes back.

A site is the registrable domain of a destination's primary MX host, so domains served by the same
mail servers share one budget (daum.net and hanmail.net both use hanmail.net's MX hosts; a
thousand Google Workspace domains share google.com's). When a site answers 421 or a reply the
classifier calls ``speeding`` / ``toomanyconn``, its budget is halved (at least 1) for a
cool-off period (and its message rate, when one is set), then restored: mailfate slows down by
itself instead of hammering a receiver that asked it to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from publicsuffixlist import PublicSuffixList

__all__ = ["SiteLimits", "site_of"]

_PSL: PublicSuffixList | None = None
PUSHBACK_REASONS = frozenset({"speeding", "toomanyconn"})


def site_of(host: str) -> str:
    """The registrable domain of an MX host (``mx1.hanmail.net`` → ``hanmail.net``)."""
    global _PSL  # noqa: PLW0603 - the suffix list is loaded once per process
    host = host.lower().rstrip(".")
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return host
    if _PSL is None:
        _PSL = PublicSuffixList()
    return str(_PSL.privatesuffix(host) or host)


@dataclass(slots=True)
class _Site:
    limit: int
    rate: float | None
    active: int = 0
    reduced: int = 0
    until: float = 0.0
    next_send: float = 0.0
    """GCRA: the earliest time the next message may start."""
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class SiteLimits:
    """``connections`` sessions and ``rate`` messages/second (None: unlimited) per site by default;
    ``sites`` overrides both for named sites (``{"naver.com": (5, 20.0)}``)."""

    def __init__(
        self,
        connections: int = 10,
        *,
        rate: float | None = None,
        sites: Mapping[str, tuple[int, float | None]] | None = None,
        cooloff: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.connections = connections
        self.rate = rate
        self.sites = {k.lower(): v for k, v in (sites or {}).items()}
        self.cooloff = cooloff
        self.clock = clock
        self._sites: dict[str, _Site] = {}

    def _state(self, site: str) -> _Site:
        state = self._sites.get(site)
        if state is None:
            limit, rate = self.sites.get(site, (self.connections, self.rate))
            state = self._sites[site] = _Site(limit, rate)
        return state

    def _slowed(self, state: _Site) -> bool:
        if state.reduced and self.clock() < state.until:
            return True
        state.reduced = 0
        return False

    def allowed(self, site: str) -> int:
        state = self._state(site)
        return state.reduced if self._slowed(state) else state.limit

    def current_rate(self, site: str) -> float | None:
        state = self._state(site)
        if state.rate is None:
            return None
        return state.rate / 2 if self._slowed(state) else state.rate

    @contextlib.asynccontextmanager
    async def slot(self, site: str) -> AsyncIterator[None]:
        state = self._state(site)
        async with state.changed:
            await state.changed.wait_for(lambda: state.active < self.allowed(site))
            state.active += 1
        rate = self.current_rate(site)
        if rate:
            now = self.clock()
            start = max(now, state.next_send)
            state.next_send = start + 1 / rate
            if start > now:
                await asyncio.sleep(start - now)
        try:
            yield
        finally:
            async with state.changed:
                state.active -= 1
                state.changed.notify_all()

    def slow_down(self, site: str) -> int:
        """Halve the site's budget for the cool-off period; the new budget."""
        state = self._state(site)
        state.reduced = max(1, self.allowed(site) // 2)
        state.until = self.clock() + self.cooloff
        return state.reduced
