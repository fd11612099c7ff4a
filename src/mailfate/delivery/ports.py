"""What the worker needs of the store, as protocols (the worker does not import the store).

:class:`QueueRepository` is the queue as :class:`~mailfate.delivery.engine.Engine` drives it:
claim, renew, settle without an attempt, record the attempts. :class:`WorkerStore` adds what the
tracking functions the engine calls need (the suppression policy, reports, the alerts). The runtime
hands in a :class:`mailfate.store.Store`, which satisfies both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mailfate.model import AttemptRecord, Claimed
from mailfate.tracking.ports import (
    EventLog,
    FateHistory,
    NotedSuppressions,
    ReportRepository,
    RollupRepository,
)

__all__ = ["QueueRepository", "WorkerStore"]


class QueueRepository(EventLog, Protocol):
    """The recipients due for delivery, leased to one worker at a time; an expiry or a refusal is
    appended to the timeline (:class:`~mailfate.tracking.ports.EventLog`)."""

    def claim(self, limit: int, *, now: datetime, lease: float, owner: str) -> list[Claimed]: ...

    def renew(self, ids: Sequence[int], *, now: datetime, lease: float, owner: str) -> set[int]: ...

    def due_in(self, now: datetime) -> float | None: ...

    def raw(self, message_id: str) -> bytes: ...

    def record_attempts(self, records: Sequence[AttemptRecord], *, owner: str | None = None) -> int: ...

    def hold(
        self,
        message_id: str,
        recipient_id: int,
        *,
        at: datetime,
        until: datetime,
        data: dict[str, Any],
        owner: str | None = None,
    ) -> bool: ...


class WorkerStore(
    QueueRepository, FateHistory, NotedSuppressions, ReportRepository, RollupRepository, Protocol
):
    """Everything the worker is handed: the queue, and what its suppressions, the asynchronous
    reports it records and the alerts that pause marketing mail read and write."""
