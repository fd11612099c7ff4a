"""Per-destination budgets: concurrent sessions per receiving *site*, halved when the site pushes back.

A site is the registrable domain of a destination's primary MX host, so domains served by the same
mail servers share one budget (daum.net and hanmail.net both use hanmail.net's MX hosts; a
thousand Google Workspace domains share google.com's). When a site answers 421 or a reply the
classifier calls ``speeding`` / ``toomanyconn``, its budget is halved (at least 1) for a
cool-off period, then restored: mailfate slows down by itself instead of hammering a receiver that
asked it to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import AsyncIterator, Callable
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
    active: int = 0
    reduced: int = 0
    until: float = 0.0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class SiteLimits:
    def __init__(
        self, connections: int = 10, *, cooloff: float = 300.0, clock: Callable[[], float] = time.monotonic
    ):
        self.connections = connections
        self.cooloff = cooloff
        self.clock = clock
        self._sites: dict[str, _Site] = {}

    def allowed(self, site: str) -> int:
        state = self._sites.get(site)
        if state is None:
            return self.connections
        if state.reduced and self.clock() < state.until:
            return state.reduced
        state.reduced = 0
        return state.limit

    @contextlib.asynccontextmanager
    async def slot(self, site: str) -> AsyncIterator[None]:
        state = self._sites.setdefault(site, _Site(self.connections))
        async with state.changed:
            await state.changed.wait_for(lambda: state.active < self.allowed(site))
            state.active += 1
        try:
            yield
        finally:
            async with state.changed:
                state.active -= 1
                state.changed.notify_all()

    def slow_down(self, site: str) -> int:
        """Halve the site's budget for the cool-off period; the new budget."""
        state = self._sites.setdefault(site, _Site(self.connections))
        state.reduced = max(1, self.allowed(site) // 2)
        state.until = self.clock() + self.cooloff
        return state.reduced
