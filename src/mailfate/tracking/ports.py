"""What tracking needs of the store, as narrow protocols: each describes one repository (or the
part of it a function calls), and each function takes only the repository it uses.

:class:`mailfate.store.Store`'s repositories satisfy them (``store.messages`` an
:class:`EventLog`, a :class:`FateHistory` and a :class:`ReportRepository`; ``store.suppressions``
:class:`NotedSuppressions`; ``store.rollups`` a :class:`RollupRepository`); the worker and the doors,
which do not import the store, hand on what they were given (typed with their own ports, built from
these). The services that read several repositories take the few they need by name
(:class:`WebhookSources`, :class:`MetricsSources`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mailfate.model import MessageView, NewEvent, NewSuppression, RecipientView, RollupQuery
from mailfate.store.messages import Messages
from mailfate.store.reports import NewReport, ReportEvent
from mailfate.store.rollups import Rollups
from mailfate.store.stats import Stats
from mailfate.store.webhooks import Webhooks

__all__ = [
    "EventLog",
    "FateHistory",
    "MetricsRepositories",
    "MetricsSources",
    "NotedSuppressions",
    "ReportRepository",
    "RollupRepository",
    "RollupSums",
    "WebhookRepositories",
    "WebhookSources",
]


class EventLog(Protocol):
    """One event appended to a recipient's timeline, its fate moved (the messages repository)."""

    def append_event(self, event: NewEvent, *, owner: str | None = None) -> int: ...


class FateHistory(Protocol):
    """The fates of an address's last messages (the soft-bounce streak; the messages repository)."""

    def recent_fates(self, address: str, limit: int) -> list[str]: ...


class NotedSuppressions(Protocol):
    """A suppression written with its note on the recipient's timeline (the suppressions repository)."""

    def suppress_noted(
        self, message_id: str, recipient_id: int, suppression: NewSuppression, *, at: datetime
    ) -> bool: ...


class ReportRepository(Protocol):
    """Reports kept with the events they made (:func:`mailfate.tracking.reports.record_reports`;
    the messages repository)."""

    def recipient(self, recipient_id: int) -> RecipientView | None: ...

    def message(self, message_id: str) -> MessageView | None: ...

    def record_report(self, raw: NewReport | None, made: Sequence[ReportEvent]) -> int | None: ...


class RollupSums(Protocol):
    """The hourly (or daily) rollups, summed (the rollups repository)."""

    def rollup_sums(self, q: RollupQuery) -> list[tuple[Any, ...]]: ...


class RollupRepository(RollupSums, Protocol):
    """The rollups, summed and folded up to now (:func:`mailfate.tracking.alerts.evaluate`)."""

    def catch_up_rollups(self, now: datetime, *, batch: int = 20_000) -> int: ...


class WebhookSources(Protocol):
    """What the outgoing webhooks read and write: subscribers' positions and log, the events."""

    @property
    def webhooks(self) -> Webhooks: ...

    @property
    def messages(self) -> Messages: ...


@dataclass(frozen=True, slots=True)
class WebhookRepositories:
    """:class:`WebhookSources` made of the repositories alone (what the runtime hands the sender)."""

    webhooks: Webhooks
    messages: Messages

    @classmethod
    def of(cls, store: WebhookSources) -> WebhookRepositories:
        return cls(store.webhooks, store.messages)


class MetricsSources(Protocol):
    """What ``/metrics`` reads at a scrape: the live counts and the rollups."""

    @property
    def stats(self) -> Stats: ...

    @property
    def rollups(self) -> Rollups: ...


@dataclass(frozen=True, slots=True)
class MetricsRepositories:
    """:class:`MetricsSources` made of the repositories alone."""

    stats: Stats
    rollups: Rollups

    @classmethod
    def of(cls, store: MetricsSources) -> MetricsRepositories:
        return cls(store.stats, store.rollups)
