"""Planning the rows one batch of attempt results writes (shared by the SQLAlchemy and sqlite3 paths)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from mailfate.model import AttemptRecord, AttemptResult, EventType, Fate, advance

__all__ = ["event_row", "plan_attempts"]


def plan_attempts(
    records: Sequence[AttemptRecord],
    current: Mapping[int, tuple[str, str]],
    held: Set[int] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """(event rows, recipient updates, touched message ids) for ``records``, given each recipient's
    ``(message id, fate)``. A recipient already decided by another path (a report that arrived
    before the attempt was written) keeps its fate and reason; its attempt is still recorded, its
    reply becomes the last reply, and its lease ends.

    ``held``: when given, the recipients still leased by the recording worker. Any other recipient's
    lease was lost (it ran out and another worker claimed it, or already recorded it): the attempt
    happened, so its event is appended (marked ``lease_lost``), but the recipient's fate, schedule
    and lease are left to the worker that holds it now."""
    event_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    touched: set[str] = set()
    for rec in records:
        found = current.get(rec.recipient_id)
        if found is None:
            continue
        message_id, fate_now = found
        res = rec.result
        data = res.to_json()
        data["outcome"] = res.outcome
        lost = held is not None and rec.recipient_id not in held
        if rec.next_attempt_at is not None and not rec.expire and not lost:
            data["next_attempt_at"] = rec.next_attempt_at.isoformat()
        if lost:
            data["lease_lost"] = True
        # a lost lease's attempt has no outcome column: it decides no fate and counts in no rollup
        outcome = None if lost else res.outcome
        event_rows.append(
            event_row(message_id, rec.recipient_id, rec.at, EventType.ATTEMPT, data, res.reason, outcome)
        )
        fate = Fate(fate_now)
        if lost:
            continue
        reply = _reply(res, rec.at)
        if fate not in (Fate.SENDING, Fate.QUEUED, Fate.DEFERRED):
            if held is not None:  # a report decided it while the attempt was on its way: the lease ends
                updates.append(_decided(rec.recipient_id, fate, reply))
            continue
        fate = advance(fate, EventType.ATTEMPT, res.outcome)
        if rec.expire:
            last = {
                "why": rec.expire_why,
                "last_reason": res.reason,
                "last_code": res.code,
                "last_status": res.status,
                "last_text": res.text,
            }
            event_rows.append(
                event_row(message_id, rec.recipient_id, rec.at, EventType.EXPIRED, last, "expired", None)
            )
            fate = advance(fate, EventType.EXPIRED)
        updates.append(
            {
                "rid": rec.recipient_id,
                "fate": fate.value,
                "next_at": rec.next_attempt_at if fate is Fate.DEFERRED else None,
                "reason": res.reason,
                "hard": bool(res.hardbounce) if fate is Fate.BOUNCED else None,  # None: unchanged
                **reply,
            }
        )
        touched.add(message_id)
    return event_rows, updates, touched


def _reply(res: AttemptResult, at: Any) -> dict[str, Any]:
    """What a recipient keeps of its last attempt: the reply, when, and the receiver's queue id."""
    return {
        "code": res.code,
        "status": res.status,
        "text": res.text[:2000],
        "at": at,
        "remote": res.remote_id or None,
    }


def _decided(rid: int, fate: Fate, reply: dict[str, Any]) -> dict[str, Any]:
    """The update of a recipient a report decided while its attempt was on its way: the fate, the
    reason and the hard mark stay the report's; the reply becomes the last reply; the lease ends."""
    return {"rid": rid, "fate": fate.value, "next_at": None, "reason": None, "hard": None, **reply}


def event_row(  # noqa: PLR0917 - one event row's columns, in table order
    message_id: str,
    recipient_id: int | None,
    at: Any,
    kind: EventType,
    data: dict[str, Any],
    reason: str | None,
    outcome: str | None,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "recipient_id": recipient_id,
        "at": at,
        "type": kind.value,
        "outcome": outcome,
        "reason": reason,
        "data": data,
    }
