"""What the doors need of the store, as protocols per concern (the doors do not import the store).

The runtime hands in a :class:`mailfate.store.Store`, which satisfies every one of them; each door
types its parameter with only what it calls: the submit batcher :class:`SubmitRepository`, the key
lookups :class:`KeyRepository`, SMTP submission :class:`SubmissionStore`, the SES import
:class:`SesRepository`, the HTTP API :class:`ApiStore`. Taken SNS MessageIds are
:class:`mailfate.intake.sns.SeenIds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mailfate.model import ApiKey, Event, MessageSummary, MessageView, NewMessage, SubmitResult, Suppression
from mailfate.model.bounces import BounceCounts
from mailfate.model.webhooks import WebhookLogEntry
from mailfate.model.workers import WorkerStatus
from mailfate.tracking.ports import EventLog, ReportRepository, RollupRepository

__all__ = [
    "ApiStore",
    "KeyRepository",
    "MessageRepository",
    "SesRepository",
    "StatsRepository",
    "SubmissionStore",
    "SubmitRepository",
    "SuppressionList",
    "SuppressionLookup",
    "WebhookLogRepository",
]


class SubmitRepository(Protocol):
    """Messages into the queue, many in one transaction (group commit)."""

    def submit_many(self, batch: Sequence[NewMessage], now: datetime) -> list[SubmitResult | Exception]: ...


class KeyRepository(Protocol):
    """An API key's record by the key itself (None: unknown or revoked)."""

    def find_key(self, key: str) -> ApiKey | None: ...


class SuppressionLookup(Protocol):
    """Whether an address is suppressed for a sending domain."""

    def suppression(self, address: str, sending_domain: str) -> Suppression | None: ...


class SuppressionList(Protocol):
    """The suppression list, read and edited by hand."""

    def suppressions(self, *, scope: str | None = None, limit: int = 1000) -> list[Suppression]: ...

    def suppress(
        self,
        scope: str,
        address: str,
        reason: str,
        *,
        at: datetime,
        detail: str = "",
        source_message_id: str | None = None,
    ) -> bool: ...

    def unsuppress(self, scope: str, address: str) -> bool: ...


class MessageRepository(Protocol):
    """Messages and events as read back."""

    def message(self, message_id: str) -> MessageView | None: ...

    def search_messages(
        self,
        *,
        recipient: str | None = None,
        domain: str | None = None,
        fate: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[MessageSummary], str | None]: ...

    def events_after(self, after_id: int = 0, limit: int = 100) -> list[Event]: ...

    def worker_status(self, now: datetime, *, threshold: float = ...) -> WorkerStatus: ...


class StatsRepository(RollupRepository, Protocol):
    """Recipients per fate, the busiest domains, and the rollups the alerts read."""

    def counts(self) -> dict[str, int]: ...

    def domain_stats(self, top: int = 20) -> list[dict[str, Any]]: ...

    def bounce_counts(self) -> dict[str, BounceCounts]: ...


class WebhookLogRepository(Protocol):
    """The outgoing webhooks' delivery log."""

    def webhook_log(
        self, *, subscriber: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[WebhookLogEntry]: ...


class SesRepository(EventLog, ReportRepository, Protocol):
    """What the SES import needs: a recipient by the MessageId SES gave its attempt, an event on its
    timeline, and the reports recorded (:func:`mailfate.tracking.reports.record_reports`)."""

    def find_by_remote_id(self, remote_id: str, address: str | None = None) -> tuple[str, int] | None: ...


class SubmissionStore(KeyRepository, SuppressionLookup, Protocol):
    """What SMTP submission needs: the key behind AUTH, and a suppressed recipient refused at RCPT."""


class ApiStore(
    SubmitRepository,
    KeyRepository,
    SuppressionList,
    MessageRepository,
    StatsRepository,
    WebhookLogRepository,
    SesRepository,
    Protocol,
):
    """Everything the HTTP API is handed, one protocol per concern."""
