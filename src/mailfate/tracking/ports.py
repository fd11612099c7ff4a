"""What tracking needs of the store, as narrow protocols: each function takes only the part it calls.

:class:`mailfate.store.Store` satisfies every one of them; the worker and the doors, which do not
import the store, hand on what they were given (typed with their own ports, built from these).
:class:`EventLog` is here for them both: the worker settles a recipient with it, the SES import
records what SES saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mailfate.model import EventType, MessageView, NewSuppression, RecipientView
from mailfate.store.reports import NewReport, ReportEvent

__all__ = [
    "EventLog",
    "FateHistory",
    "NotedSuppressions",
    "ReportRepository",
    "RollupRepository",
    "RollupSums",
]


class EventLog(Protocol):
    """One event appended to a recipient's timeline, its fate moved."""

    def append_event(
        self,
        message_id: str,
        recipient_id: int | None,
        type: EventType | str,
        at: datetime,
        data: dict[str, Any] | None = None,
        *,
        reason: str | None = None,
        owner: str | None = None,
    ) -> int: ...


class FateHistory(Protocol):
    """The fates of an address's last messages (the soft-bounce streak)."""

    def recent_fates(self, address: str, limit: int) -> list[str]: ...


class NotedSuppressions(Protocol):
    """A suppression written with its note on the recipient's timeline."""

    def suppress_noted(
        self, message_id: str, recipient_id: int, suppression: NewSuppression, *, at: datetime
    ) -> bool: ...


class ReportRepository(Protocol):
    """Reports kept with the events they made (:func:`mailfate.tracking.reports.record_reports`)."""

    def recipient(self, recipient_id: int) -> RecipientView | None: ...

    def message(self, message_id: str) -> MessageView | None: ...

    def record_report(self, raw: NewReport | None, made: Sequence[ReportEvent]) -> int | None: ...


class RollupSums(Protocol):
    """The hourly (or daily) rollups, summed."""

    def rollup_sums(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        by: tuple[str, ...] = ("kind",),
        daily: bool = False,
    ) -> list[tuple[Any, ...]]: ...


class RollupRepository(RollupSums, Protocol):
    """The rollups, summed and folded up to now (:func:`mailfate.tracking.alerts.evaluate`)."""

    def catch_up_rollups(self, now: datetime, *, batch: int = 20_000) -> int: ...
