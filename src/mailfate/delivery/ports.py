"""What the worker needs of the store, as protocols (the worker does not import the store).

:class:`QueueRepository` is the queue as :class:`~mailfate.delivery.engine.Engine` drives it:
claim, renew, settle without an attempt, record the attempts. :class:`TimelineRepository` is the
messages repository as the worker uses it (an expiry or a refusal appended, the soft-bounce
streak, the asynchronous reports recorded). :class:`WorkerStore` names the four repositories the
worker is handed; the runtime builds a :class:`WorkerRepositories` of ``mailfate.store.Store``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mailfate.model import AttemptRecord, Claimed, Hold
from mailfate.tracking.ports import (
    EventLog,
    FateHistory,
    NotedSuppressions,
    ReportRepository,
    RollupRepository,
)

__all__ = ["QueueRepository", "TimelineRepository", "WorkerRepositories", "WorkerStore"]


class QueueRepository(Protocol):
    """The recipients due for delivery, leased to one worker at a time."""

    def claim(self, limit: int, *, now: datetime, lease: float, owner: str) -> list[Claimed]: ...

    def renew(self, ids: Sequence[int], *, now: datetime, lease: float, owner: str) -> set[int]: ...

    def due_in(self, now: datetime) -> float | None: ...

    def raw(self, message_id: str) -> bytes: ...

    def record_attempts(self, records: Sequence[AttemptRecord], *, owner: str | None = None) -> int: ...

    def hold(self, held: Hold, *, owner: str | None = None) -> bool: ...


class TimelineRepository(EventLog, FateHistory, ReportRepository, Protocol):
    """Messages and events as the worker writes and reads them."""


class WorkerStore(Protocol):
    """The repositories the worker is handed: the queue, the timeline, the suppressions its policy
    writes, and the rollups the alerts that pause marketing mail read."""

    @property
    def queue(self) -> QueueRepository: ...

    @property
    def messages(self) -> TimelineRepository: ...

    @property
    def suppressions(self) -> NotedSuppressions: ...

    @property
    def rollups(self) -> RollupRepository: ...


@dataclass(frozen=True, slots=True)
class WorkerRepositories:
    """A :class:`WorkerStore` made of the repositories alone (what the runtime hands the worker)."""

    queue: QueueRepository
    messages: TimelineRepository
    suppressions: NotedSuppressions
    rollups: RollupRepository

    @classmethod
    def of(cls, store: WorkerStore) -> WorkerRepositories:
        return cls(store.queue, store.messages, store.suppressions, store.rollups)
