"""Alerts pushed out: every ``interval`` the alert rules run; what is newly raised or cleared goes
to the log (WARNING) and, signed like the events, to the webhooks whose ``events`` include
``"alert"``::

    {"type": "alert", "state": "raised" | "cleared", "at": "...", "alert": {rule, severity, subject,
     value, threshold, message, source}}

Alerts are computed, not stored: delivery is best effort (a few tries over seconds, then given
up and logged), and the alerts active at the last check live in memory — after a restart the
ones still active are announced again as raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx

from mailfate.config import WebhookSettings
from mailfate.tracking.alerts import Alert, evaluate
from mailfate.tracking.ports import RollupRepository
from mailfate.tracking.webhooks_out import (
    Clock,
    Sleep,
    check_subscriber,
    encode,
    make_client,
    pause,
    post_signed,
    utcnow,
)

__all__ = ["AlertChange", "AlertWatcher"]

log = logging.getLogger(__name__)

AlertChange = tuple[str, Alert]
"""("raised" | "cleared", the alert)."""
TRIES = 3


def _key(alert: Alert) -> tuple[str, str, str, float]:
    return (alert.rule, alert.subject, alert.severity, alert.threshold)


class AlertWatcher:
    """``await run(stop)``: check every ``interval`` seconds; ``await check()``: one check."""

    def __init__(
        self,
        rollups: RollupRepository,
        subscribers: Sequence[WebhookSettings],
        *,
        interval: float = 60.0,
        clock: Clock = utcnow,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        rules: Callable[[RollupRepository, datetime], list[Alert]] = evaluate,
    ) -> None:
        self.rollups = rollups
        self.subscribers = tuple(hook for hook in subscribers if hook.wants("alert"))
        self.keys = {hook.name: check_subscriber(hook) for hook in self.subscribers}
        self.interval = interval
        self.clock = clock
        self.http = http
        self.sleep = sleep
        self.rules = rules
        self.active: dict[tuple[str, str, str, float], Alert] = {}

    async def run(self, stop: asyncio.Event) -> None:
        own = self.http is None
        self.http = self.http or make_client()
        try:
            while not stop.is_set():
                try:
                    await self.check()
                except Exception:  # the loop's boundary: the store is down, a bug; log and go on
                    log.exception("alerts: the check failed; trying again in %g s", self.interval)
                await pause(stop, self.interval, self.sleep)
        finally:
            if own:
                await self.http.aclose()
                self.http = None

    async def check(self) -> list[AlertChange]:
        """Run the rules once; log and push what changed since the last check."""
        now = self.clock()
        found = await asyncio.to_thread(self.rules, self.rollups, now)
        current = {_key(a): a for a in found}
        changes: list[AlertChange] = [("raised", a) for k, a in current.items() if k not in self.active]
        changes += [("cleared", a) for k, a in self.active.items() if k not in current]
        self.active = current
        for state, alert in changes:
            log.warning(
                "alert %s: %s %s on %s: value %.4g, threshold %.4g — %s",
                state,
                alert.severity,
                alert.rule,
                alert.subject,
                alert.value,
                alert.threshold,
                alert.message,
            )
        if changes and self.subscribers:
            await asyncio.gather(
                *(
                    self._push(hook, state, alert, now)
                    for state, alert in changes
                    for hook in self.subscribers
                )
            )
        return changes

    async def _push(self, hook: WebhookSettings, state: str, alert: Alert, at: datetime) -> bool:
        own = self.http is None
        http = self.http or make_client()
        body = encode({"type": "alert", "state": state, "at": at.isoformat(), "alert": alert.to_json()})
        event_id = f"alert:{state}:{alert.rule}:{alert.subject}:{int(at.timestamp())}"
        never = asyncio.Event()
        try:
            for attempt in range(1, TRIES + 1):
                key, at_ts = self.keys[hook.name], int(self.clock().timestamp())
                result = await post_signed(http, hook, key, body, timestamp=at_ts, event_id=event_id)
                if result.ok:
                    return True
                if attempt < TRIES:
                    await pause(never, 2.0 ** (attempt - 1), self.sleep)
            log.warning(
                "alert %s %s on %s not delivered to webhook %s after %d tries: %s",
                state,
                alert.rule,
                alert.subject,
                hook.name,
                TRIES,
                result.error,
            )
            return False
        finally:
            if own:
                await http.aclose()
