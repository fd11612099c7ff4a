"""The hot writes on SQLite through the sqlite3 driver: the same rows as the SQLAlchemy path, a
third of the cost — submitting a message, claiming a batch of recipients and recording a batch of
attempt results.

Submitting is what an application waits for, once per message, so its cost bounds how fast an
application can hand mail over; and every write holds SQLite's one write lock, so the shorter the
worker's transactions, the less the application waits for it. Through SQLAlchemy Core a submit
costs about 0.45 ms, most of it building parameters and results around five statements; here the
statements are plain SQL on the sqlite3 connection. Values are converted with the same processors
SQLAlchemy uses for these columns (its SQLite DATETIME text format, JSON text), so both paths write
identical rows — the store tests write through these functions on SQLite and read everything back
through SQLAlchemy, and run the SQLAlchemy path on PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from mailfate.model import AttemptRecord, EventType, Fate, NewMessage, SubmitResult, Suppression, message_fate
from mailfate.store.attempts import plan_attempts
from mailfate.store.ids import new_message_id
from mailfate.store.rows import refusal_text, suppressed_event_data

__all__ = ["ClaimedRows", "claim_sqlite", "record_sqlite", "submit_many_sqlite", "submit_sqlite"]

_DIALECT = SQLiteDialect_pysqlite()
_DATETIME = DATETIME()  # type: ignore[no-untyped-call]
_to_text: Callable[[Any], Any] = _DATETIME.bind_processor(_DIALECT) or (lambda v: v)
_from_text: Callable[[Any], Any] = _DATETIME.result_processor(_DIALECT, None) or (lambda v: v)

_INSERT_MESSAGE = (
    "INSERT INTO messages (id, created_at, from_addr, sending_domain, subject, category, tags,"
    " idempotency_key, deadline, expires_at, header_message_id, size, raw, fate)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_RECIPIENT = (
    "INSERT INTO recipients (message_id, address, domain, fate, attempts, next_attempt_at, updated_at,"
    " last_reason, last_text) VALUES (?,?,?,?,0,?,?,?,?)"
)
_INSERT_EVENT = (
    "INSERT INTO events (message_id, recipient_id, at, type, outcome, reason, data) VALUES (?,?,?,?,NULL,?,?)"
)


def _dt(value: datetime | None) -> Any:
    return None if value is None else _to_text(value.astimezone(UTC).replace(tzinfo=None))


def submit_sqlite(
    cursor: Any, msg: NewMessage, now: datetime, addresses: list[str], sending: str
) -> tuple[SubmitResult, dict[str, Suppression]]:
    """Run inside a transaction the caller began (BEGIN IMMEDIATE) and commits."""
    if msg.idempotency_key is not None:
        found = cursor.execute(
            "SELECT id FROM messages WHERE idempotency_key = ?", (msg.idempotency_key,)
        ).fetchone()
        if found is not None:
            return SubmitResult(found[0], False), {}
    refused = _refused(cursor, addresses, sending)
    mid = new_message_id(int(now.timestamp() * 1000))
    fates = [Fate.SUPPRESSED if a.lower() in refused else Fate.QUEUED for a in addresses]
    at = _dt(now)
    cursor.execute(
        _INSERT_MESSAGE,
        (
            mid,
            at,
            msg.from_addr,
            sending,
            msg.subject,
            msg.category,
            json.dumps(list(msg.tags)),
            msg.idempotency_key,
            _dt(msg.deadline),
            _dt(now + timedelta(seconds=msg.max_age)),
            msg.header_message_id,
            len(msg.raw),
            msg.raw,
            message_fate(fates).value,
        ),
    )
    queued: dict[str, Any] = {"category": msg.category}
    if msg.deadline:
        queued["deadline"] = msg.deadline.isoformat()
    _insert_recipients(cursor, mid, at, list(zip(addresses, fates, strict=True)), refused, json.dumps(queued))
    suppressed = tuple(
        (a, refused[a.lower()].reason, refused[a.lower()].created_at)
        for a in addresses
        if a.lower() in refused
    )
    return SubmitResult(mid, True, suppressed), refused


def _refused(cursor: Any, addresses: list[str], sending: str) -> dict[str, Suppression]:
    """The suppressions (for ``sending`` or for all) of ``addresses``, by lowercased address."""
    lowered = [a.lower() for a in addresses]
    marks = ",".join("?" * len(lowered))
    return {
        s.address: s
        for s in _suppressions(
            cursor, f"WHERE address IN ({marks}) AND scope IN (?, '*')", (*lowered, sending)
        )
    }


def _suppressions(cursor: Any, where: str, params: Sequence[Any]) -> list[Suppression]:
    return [
        Suppression(scope, address, reason, detail, source, _aware(created))
        for scope, address, reason, detail, source, created in cursor.execute(
            "SELECT scope, address, reason, detail, source_message_id, created_at FROM suppressions " + where,
            params,
        )
    ]


def _aware(text: Any) -> Any:
    return None if text is None else _from_text(text).replace(tzinfo=UTC)


ClaimedRows = tuple[
    list[tuple[int, str, str, str, int]],
    dict[str, tuple[str, str, datetime, datetime | None, datetime, str, bytes]],
    dict[tuple[str, str], Suppression],
]
"""What a claim read: the recipients leased (id, message id, address, domain, attempts), their
messages (from, sending domain, created, deadline, expires, category, raw) by id, and the
suppressions of their addresses by (scope, address)."""

_CLAIMABLE = (
    (Fate.QUEUED.value, "next_attempt_at <= ?"),
    (Fate.DEFERRED.value, "next_attempt_at <= ?"),
    (Fate.SENDING.value, "lease_until < ?"),  # a lease that ran out: its worker is gone
)


def claim_sqlite(cursor: Any, limit: int, now: datetime, lease: float, owner: str) -> ClaimedRows:
    """``Queue.claim`` inside a transaction the caller began (BEGIN IMMEDIATE) and commits: the
    same statements as the SQLAlchemy path, oldest due first."""
    at = _dt(now)
    ids: list[int] = []
    for fate, due in _CLAIMABLE:
        if len(ids) >= limit:
            break
        ids.extend(
            rid
            for (rid,) in cursor.execute(
                f"SELECT id FROM recipients WHERE fate = ? AND {due} ORDER BY next_attempt_at, id LIMIT ?",
                (fate, at, limit - len(ids)),
            )
        )
    if not ids:
        return [], {}, {}
    rows = cursor.execute(
        "UPDATE recipients SET fate = ?, lease_until = ?, lease_owner = ?, attempts = attempts + 1,"
        f" updated_at = ? WHERE id IN ({','.join('?' * len(ids))})"
        " RETURNING id, message_id, address, domain, attempts",
        (Fate.SENDING.value, _dt(now + timedelta(seconds=lease)), owner, at, *ids),
    ).fetchall()
    mids = list({row[1] for row in rows})
    info = {
        mid: (from_addr, sending, _aware(created), _aware(deadline), _aware(expires), category, bytes(raw))
        for mid, from_addr, sending, created, deadline, expires, category, raw in cursor.execute(
            "SELECT id, from_addr, sending_domain, created_at, deadline, expires_at, category, raw"
            f" FROM messages WHERE id IN ({','.join('?' * len(mids))})",
            mids,
        )
    }
    addrs = list({row[2].lower() for row in rows})
    blocked = {
        (s.scope, s.address): s
        for s in _suppressions(cursor, f"WHERE address IN ({','.join('?' * len(addrs))})", addrs)
    }
    return rows, info, blocked


def _insert_recipients(  # noqa: PLR0917 - one message's recipient rows
    cursor: Any,
    mid: str,
    at: str,
    planned: list[tuple[str, Fate]],
    refused: dict[str, Suppression],
    queued_json: str,
) -> None:
    """A row and a first event (``queued``, or ``suppressed`` with its facts) per recipient."""
    for address, fate in planned:
        s = refused.get(address.lower()) if fate is Fate.SUPPRESSED else None
        cursor.execute(
            _INSERT_RECIPIENT,
            (
                mid,
                address,
                address.rpartition("@")[2].lower(),
                fate.value,
                at if s is None else None,
                at,
                "suppressed" if s else None,
                refusal_text(s) if s else None,
            ),
        )
        rid = cursor.lastrowid
        if s is None:
            cursor.execute(_INSERT_EVENT, (mid, rid, at, EventType.QUEUED.value, None, queued_json))
        else:
            data = json.dumps(suppressed_event_data(s))
            cursor.execute(_INSERT_EVENT, (mid, rid, at, EventType.SUPPRESSED.value, "suppressed", data))


_INSERT_EVENT_FULL = (
    "INSERT INTO events (message_id, recipient_id, at, type, outcome, reason, data) VALUES (?,?,?,?,?,?,?)"
)
_UPDATE_RECIPIENT = (
    "UPDATE recipients SET fate=?, next_attempt_at=?, lease_until=NULL, lease_owner=NULL,"
    " last_reason=COALESCE(?, last_reason),"
    " last_code=?, last_status=?, last_text=?, updated_at=?, remote_id=COALESCE(?, remote_id),"
    " hard_bounce=COALESCE(?, hard_bounce) WHERE id=?"
)


def record_sqlite(cursor: Any, records: list[AttemptRecord], owner: str | None = None) -> int:
    """``Queue.record_attempts`` inside a transaction the caller began (BEGIN IMMEDIATE: no claim
    can slip in between the SELECT and the UPDATE) and commits; the number of results whose lease
    was lost."""
    ids = [r.recipient_id for r in records]
    current: dict[int, tuple[str, str]] = {}
    held: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = (
            "SELECT id, message_id, fate, lease_owner FROM recipients"
            f" WHERE id IN ({','.join('?' * len(chunk))})"
        )
        for rid, mid, fate, lease_owner in cursor.execute(sql, chunk):
            current[rid] = (mid, fate)
            if lease_owner is not None and lease_owner == owner:
                held.add(rid)
    event_rows, updates, touched = plan_attempts(records, current, held if owner else None)
    cursor.executemany(
        _INSERT_EVENT_FULL,
        [
            (
                e["message_id"],
                e["recipient_id"],
                _dt(e["at"]),
                e["type"],
                e["outcome"],
                e["reason"],
                json.dumps(e["data"]),
            )
            for e in event_rows
        ],
    )
    cursor.executemany(
        _UPDATE_RECIPIENT,
        [
            (
                u["fate"],
                _dt(u["next_at"]),
                u["reason"],
                u["code"],
                u["status"],
                u["text"],
                _dt(u["at"]),
                u["remote"],
                u["hard"],
                u["rid"],
            )
            for u in updates
        ],
    )
    mids = list(touched)
    fates: dict[str, list[str]] = {}
    for start in range(0, len(mids), 500):
        part = mids[start : start + 500]
        sql = f"SELECT message_id, fate FROM recipients WHERE message_id IN ({','.join('?' * len(part))})"
        for mid, fate in cursor.execute(sql, part):
            fates.setdefault(mid, []).append(fate)
    cursor.executemany(
        "UPDATE messages SET fate=? WHERE id=?", [(message_fate(f).value, mid) for mid, f in fates.items()]
    )
    return 0 if owner is None else len(current.keys() - held)


def submit_many_sqlite(
    cursor: Any, items: list[tuple[NewMessage, list[str], str, datetime]]
) -> list[SubmitResult | Exception]:
    """Many submits in the caller's one transaction (group commit); a savepoint each, so one bad
    message fails alone."""
    out: list[SubmitResult | Exception] = []
    for msg, addresses, sending, now in items:
        cursor.execute("SAVEPOINT one")
        try:
            result, _ = submit_sqlite(cursor, msg, now, addresses, sending)
        except sqlite3.Error as exc:
            cursor.execute("ROLLBACK TO one")
            cursor.execute("RELEASE one")
            out.append(exc)
            continue
        cursor.execute("RELEASE one")
        out.append(result)
    return out
