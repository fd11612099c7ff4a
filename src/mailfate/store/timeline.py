"""Writes to a message's timeline inside the caller's transaction, shared by the repositories whose
one transaction spans several concerns (a report: its events and suppressions; a hold)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from mailfate.errors import InputError
from mailfate.model import EventType, Fate, NewEvent, advance, message_fate
from mailfate.model.bounces import HARD_FLAG
from mailfate.store.attempts import event_row
from mailfate.store.tables import events, messages, recipients

__all__ = ["append_in", "refresh_messages"]

_FINAL_CLEAR = {"next_attempt_at": None, "lease_until": None, "lease_owner": None}
_UPDATE_MESSAGE_FATE = (
    update(messages).where(messages.c.id == bindparam("mid")).values(fate=bindparam("fate"))
)


def refresh_messages(conn: Connection, message_ids: set[str]) -> None:
    """Recompute the fates of ``message_ids`` from their recipients'."""
    if not message_ids:
        return
    fates: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(
        select(recipients.c.message_id, recipients.c.fate).where(recipients.c.message_id.in_(message_ids))
    ):
        fates[row.message_id].append(row.fate)
    conn.execute(_UPDATE_MESSAGE_FATE, [{"mid": m, "fate": message_fate(f).value} for m, f in fates.items()])


def append_in(conn: Connection, event: NewEvent, *, owner: str | None = None) -> int:
    """Append ``event`` and move its recipient's fate, inside the caller's transaction
    (:meth:`mailfate.store.messages.Messages.append_event` says what ``owner`` does)."""
    message_id, recipient_id, at, reason = event.message_id, event.recipient_id, event.at, event.reason
    kind = EventType(event.type)
    r = recipients.c
    row: Any = None
    data = dict(event.data or {})
    if recipient_id is not None:
        row = conn.execute(
            select(r.fate, r.message_id, r.lease_owner).where(r.id == recipient_id)
        ).one_or_none()
        if row is None or row.message_id != message_id:
            raise InputError(f"message {message_id} has no recipient {recipient_id}")
        if owner is not None and row.lease_owner != owner:
            data["lease_lost"] = True
    eid = int(
        conn.execute(
            events.insert()
            .values(**event_row(message_id, recipient_id, at, kind, data, reason, None))
            .returning(events.c.id)
        ).scalar_one()
    )
    if recipient_id is not None and not data.get("lease_lost"):
        assert row is not None
        before = Fate(row.fate)
        after = advance(before, kind)
        values: dict[str, Any] = {"fate": after.value, "updated_at": at}
        if after is not before and after not in (Fate.QUEUED, Fate.DEFERRED, Fate.SENDING):
            values.update(_FINAL_CLEAR)
            if row.lease_owner is not None and owner is None:  # a report: the holder ends it
                del values["lease_until"], values["lease_owner"]
        if before is Fate.SENDING and kind in (EventType.EXPIRED, EventType.SUPPRESSED):
            values["attempts"] = r.attempts - 1  # claimed, but no attempt was made
        if reason and after is not before:
            values["last_reason"] = reason
        if after is Fate.BOUNCED and after is not before:  # the bounce that ended it: its mark
            values["hard_bounce"] = data.get(HARD_FLAG) is True
        conn.execute(update(recipients).where(r.id == recipient_id).values(**values))
        refresh_messages(conn, {message_id})
    return eid
