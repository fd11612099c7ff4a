"""What the doors need of the store, as protocols per repository (the doors do not import the store).

Each protocol describes one repository, or the part of it a door calls: the submit batcher takes
the queue (:class:`mailfate.submit.batcher.BatchStore`), the key cache the keys
(:class:`KeyRepository`), the SES import the messages (:class:`SesRepository`). A door that reads
several names them: :class:`SubmissionStore` (SMTP submission), :class:`ApiStore` (the HTTP API);
the runtime hands each a dataclass of ``mailfate.store.Store``'s repositories
(:class:`SubmissionRepositories`, :class:`ApiRepositories`). Taken SNS MessageIds are
:class:`mailfate.intake.sns.SeenIds` (the sns repository).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mailfate.model import (
    ApiKey,
    Event,
    MessageQuery,
    MessageSummary,
    MessageView,
    NewSuppression,
    Suppression,
)
from mailfate.model.bounces import BounceCounts
from mailfate.model.webhooks import WebhookLogEntry
from mailfate.model.workers import WorkerStatus
from mailfate.submit.batcher import BatchStore
from mailfate.tracking.ports import EventLog, ReportRepository, RollupRepository

__all__ = [
    "ApiMessages",
    "ApiRepositories",
    "ApiStore",
    "KeyRepository",
    "MessageRepository",
    "SesRepository",
    "StatsRepository",
    "SubmissionRepositories",
    "SubmissionStore",
    "SuppressionList",
    "SuppressionLookup",
    "WebhookLogRepository",
    "WorkerHealth",
]


class KeyRepository(Protocol):
    """An API key's record by the key itself (None: unknown or revoked; the keys repository)."""

    def find_key(self, key: str) -> ApiKey | None: ...


class SuppressionLookup(Protocol):
    """Whether an address is suppressed for a sending domain (the suppressions repository)."""

    def suppression(self, address: str, sending_domain: str) -> Suppression | None: ...


class SuppressionList(Protocol):
    """The suppression list, read and edited by hand (the suppressions repository)."""

    def suppressions(self, *, scope: str | None = None, limit: int = 1000) -> list[Suppression]: ...

    def suppress(self, s: NewSuppression, *, at: datetime, source_message_id: str | None = None) -> bool: ...

    def unsuppress(self, scope: str, address: str) -> bool: ...


class MessageRepository(Protocol):
    """Messages and events as read back (the messages repository)."""

    def message(self, message_id: str) -> MessageView | None: ...

    def search_messages(self, q: MessageQuery) -> tuple[list[MessageSummary], str | None]: ...

    def events_after(self, after_id: int = 0, limit: int = 100) -> list[Event]: ...


class SesRepository(EventLog, ReportRepository, Protocol):
    """What the SES import needs of the messages repository: a recipient by the MessageId SES gave
    its attempt, an event on its timeline, and the reports recorded
    (:func:`mailfate.tracking.reports.record_reports`)."""

    def find_by_remote_id(self, remote_id: str, address: str | None = None) -> tuple[str, int] | None: ...


class ApiMessages(MessageRepository, SesRepository, Protocol):
    """The messages repository as the HTTP API uses it: read back, and SES events recorded."""


class WorkerHealth(Protocol):
    """Whether a worker runs on the store (the workers repository)."""

    def worker_status(self, now: datetime, *, threshold: float = ...) -> WorkerStatus: ...


class StatsRepository(Protocol):
    """Recipients per fate, the busiest domains, the bounces (the stats repository)."""

    def counts(self) -> dict[str, int]: ...

    def domain_stats(self, top: int = 20) -> list[dict[str, Any]]: ...

    def bounce_counts(self) -> dict[str, BounceCounts]: ...


class WebhookLogRepository(Protocol):
    """The outgoing webhooks' delivery log (the webhooks repository)."""

    def webhook_log(
        self, *, subscriber: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[WebhookLogEntry]: ...


class SubmissionStore(Protocol):
    """What SMTP submission reads: the key behind AUTH, and a suppressed recipient refused at RCPT."""

    @property
    def keys(self) -> KeyRepository: ...

    @property
    def suppressions(self) -> SuppressionLookup: ...


@dataclass(frozen=True, slots=True)
class SubmissionRepositories:
    """A :class:`SubmissionStore` made of the repositories alone."""

    keys: KeyRepository
    suppressions: SuppressionLookup

    @classmethod
    def of(cls, store: SubmissionStore) -> SubmissionRepositories:
        return cls(store.keys, store.suppressions)


class ApiStore(Protocol):
    """The repositories the HTTP API is handed."""

    @property
    def queue(self) -> BatchStore: ...

    @property
    def keys(self) -> KeyRepository: ...

    @property
    def suppressions(self) -> SuppressionList: ...

    @property
    def messages(self) -> ApiMessages: ...

    @property
    def workers(self) -> WorkerHealth: ...

    @property
    def stats(self) -> StatsRepository: ...

    @property
    def rollups(self) -> RollupRepository: ...

    @property
    def webhooks(self) -> WebhookLogRepository: ...


@dataclass(frozen=True, slots=True)
class ApiRepositories:
    """An :class:`ApiStore` made of the repositories alone."""

    queue: BatchStore
    keys: KeyRepository
    suppressions: SuppressionList
    messages: ApiMessages
    workers: WorkerHealth
    stats: StatsRepository
    rollups: RollupRepository
    webhooks: WebhookLogRepository

    @classmethod
    def of(cls, store: ApiStore) -> ApiRepositories:
        return cls(
            store.queue,
            store.keys,
            store.suppressions,
            store.messages,
            store.workers,
            store.stats,
            store.rollups,
            store.webhooks,
        )
