"""The queue: messages submitted (their rows, their recipients' rows and first events, in one
transaction), recipients claimed by workers under a lease, their attempts recorded.

These are the hot paths (the API's intake, the worker's claim and record): their statements are
built once, and on SQLite the submits, claims and records go through the sqlite3 driver
(``sqlite_writes.py``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from mailfate.errors import InputError
from mailfate.model import (
    AttemptRecord,
    Claimed,
    EventType,
    Fate,
    Hold,
    NewMessage,
    SubmitResult,
    Suppression,
    message_fate,
)
from mailfate.store.attempts import event_row, plan_attempts
from mailfate.store.database import Database, Repository, fix_for
from mailfate.store.errors import StoreError
from mailfate.store.group import GroupCommit
from mailfate.store.ids import new_message_id
from mailfate.store.rows import aware, normalize_address, refusal_text, suppressed_event_data, to_suppression
from mailfate.store.sqlite_writes import (
    ClaimedRows,
    claim_sqlite,
    record_sqlite,
    submit_many_sqlite,
    submit_sqlite,
)
from mailfate.store.suppressions import SUPPRESSED
from mailfate.store.tables import events, messages, recipients, suppressions
from mailfate.store.timeline import refresh_messages

__all__ = ["Queue"]

log = logging.getLogger(__name__)
_OPEN = (Fate.QUEUED.value, Fate.DEFERRED.value)


# Statements built once: SQLAlchemy then reuses their compiled form (building a statement per call
# costs more than SQLite takes to run it).
_INSERT_MESSAGE = messages.insert()
_INSERT_RECIPIENTS = recipients.insert().returning(recipients.c.id, sort_by_parameter_order=True)
_UPDATE_RECIPIENT = (
    update(recipients)
    .where(recipients.c.id == bindparam("rid"))
    .values(
        fate=bindparam("fate"),
        next_attempt_at=bindparam("next_at"),
        lease_until=None,
        lease_owner=None,
        last_reason=func.coalesce(bindparam("reason"), recipients.c.last_reason),
        last_code=bindparam("code"),
        last_status=bindparam("status"),
        last_text=bindparam("text"),
        updated_at=bindparam("at"),
        remote_id=func.coalesce(bindparam("remote"), recipients.c.remote_id),
        hard_bounce=func.coalesce(bindparam("hard"), recipients.c.hard_bounce),
    )
)
_UPDATE_OWNED = _UPDATE_RECIPIENT.where(recipients.c.lease_owner == bindparam("owner"))
_RENEW = (
    update(recipients)
    .where(
        recipients.c.id.in_(bindparam("ids", expanding=True)),
        recipients.c.lease_owner == bindparam("owner"),
        recipients.c.fate == Fate.SENDING.value,
    )
    .values(lease_until=bindparam("until"))
    .returning(recipients.c.id)
)
_BY_KEY = select(messages.c.id).where(messages.c.idempotency_key == bindparam("key"))
_CLAIM_INFO = select(
    messages.c.id,
    messages.c.from_addr,
    messages.c.sending_domain,
    messages.c.created_at,
    messages.c.deadline,
    messages.c.expires_at,
    messages.c.category,
    messages.c.raw,
).where(messages.c.id.in_(bindparam("ids", expanding=True)))
_SUPPRESSED_ANY = select(suppressions).where(suppressions.c.address.in_(bindparam("addrs", expanding=True)))


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


class Queue(Repository):
    """Messages into the queue; recipients claimed, renewed, held and recorded by the workers."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.shown = db.shown
        self._group: GroupCommit[NewMessage, SubmitResult] = GroupCommit(self._submit_batch)

    def submit(self, msg: NewMessage, now: datetime) -> SubmitResult:
        """Queue one message: its row, one row per recipient, a ``queued`` (or ``suppressed``)
        event each — in one transaction, on disk when this returns. An idempotency key seen before
        returns that message. Threads that submit at the same moment share one transaction and
        one commit (:mod:`mailfate.store.group`)."""
        if not msg.recipients:
            raise InputError("a message needs at least one recipient")
        return self._group.submit(msg, now)

    @property
    def submit_transactions(self) -> int:
        """Transactions ``submit`` has written in this process (fewer than submits under load)."""
        return self._group.batches

    def submit_many(self, batch: Sequence[NewMessage], now: datetime) -> list[SubmitResult | Exception]:
        """Many submits in one transaction (group commit: one lock, one commit for a burst of
        requests); each result is a SubmitResult or the error of that message alone."""
        return self._submit_batch(batch, [now] * len(batch))

    def _submit_batch(
        self, batch: Sequence[NewMessage], nows: Sequence[datetime]
    ) -> list[SubmitResult | Exception]:
        if len(batch) == 1:  # alone: the single-message path, whose errors name the message
            try:
                return [self._submit_one(batch[0], nows[0])]
            except (InputError, StoreError) as exc:
                return [exc]
        items: list[tuple[NewMessage, list[str], str, datetime]] = []
        out: dict[int, SubmitResult | Exception] = {}
        for i, (msg, now) in enumerate(zip(batch, nows, strict=True)):
            if not msg.recipients:
                out[i] = InputError("a message needs at least one recipient")
                continue
            addresses = list(dict.fromkeys(normalize_address(a) for a in msg.recipients))
            items.append((msg, addresses, _domain(msg.from_addr), now))
        if self.dialect == "sqlite":
            found: list[Any] = self.db.sqlite_write(submit_many_sqlite, items, what="submit to")
            written = [
                StoreError(f"submit failed: {r}") if isinstance(r, sqlite3.Error) else r for r in found
            ]
        else:
            written = self._submit_many_pg(items)
        rest = iter(written)
        return [out[i] if i in out else next(rest) for i in range(len(batch))]

    def _submit_many_pg(self, items: list[tuple[NewMessage, list[str], str, datetime]]) -> list[Any]:
        """One transaction, a statement per table for the whole batch (a round trip costs more than
        the rows). If another process commits one of these idempotency keys meanwhile, the batch is
        rolled back and written again one message at a time."""
        try:
            with self.engine.begin() as conn:
                return self._insert_many_pg(conn, items)
        except IntegrityError:
            log.info("an idempotency key was taken meanwhile: %d submits written one by one", len(items))
        except OperationalError as exc:
            raise StoreError(f"cannot write to the store {self.shown}: {exc.orig}", fix=fix_for(exc)) from exc
        results: list[SubmitResult | Exception] = []
        for msg, _, _, now in items:
            try:
                results.append(self._submit_one(msg, now))
            except (InputError, StoreError) as exc:
                results.append(exc)
        return results

    def _insert_many_pg(
        self, conn: Connection, items: list[tuple[NewMessage, list[str], str, datetime]]
    ) -> list[SubmitResult | Exception]:
        keys = [m.idempotency_key for m, *_ in items if m.idempotency_key is not None]
        taken: dict[str, str] = {}
        if keys:
            found = conn.execute(
                select(messages.c.idempotency_key, messages.c.id).where(messages.c.idempotency_key.in_(keys))
            )
            taken = {str(k): str(mid) for k, mid in found}
        lowered = sorted({a.lower() for _, addresses, _, _ in items for a in addresses})
        scopes = sorted({sending for _, _, sending, _ in items} | {"*"})
        known: dict[tuple[str, str], Suppression] = {
            (r.scope, r.address): to_suppression(r)
            for r in conn.execute(SUPPRESSED, {"addrs": lowered, "scopes": scopes})
        }
        results: list[SubmitResult | Exception] = []
        message_rows: list[dict[str, Any]] = []
        recipient_rows: list[dict[str, Any]] = []
        planned: list[tuple[str, NewMessage, datetime, list[str], list[Fate], dict[str, Suppression]]] = []
        for msg, addresses, sending, now in items:
            key = msg.idempotency_key
            if key is not None and key in taken:
                results.append(SubmitResult(taken[key], False))
                continue
            refused = {
                a.lower(): known.get((sending, a.lower())) or known[("*", a.lower())]
                for a in addresses
                if (sending, a.lower()) in known or ("*", a.lower()) in known
            }
            mid = new_message_id(int(now.timestamp() * 1000))
            if key is not None:
                taken[key] = mid  # a second submit with this key in the same batch gets this one
            fates = [Fate.SUPPRESSED if a.lower() in refused else Fate.QUEUED for a in addresses]
            message_rows.append(_message_row(mid, msg, now, sending, fates))
            recipient_rows.extend(_recipient_rows(mid, now, addresses, fates, refused))
            planned.append((mid, msg, now, addresses, fates, refused))
            refusals = tuple(
                (a, refused[a.lower()].reason, refused[a.lower()].created_at)
                for a in addresses
                if a.lower() in refused
            )
            results.append(SubmitResult(mid, True, refusals))
        if not message_rows:
            return results
        conn.execute(_INSERT_MESSAGE, message_rows)
        ids = iter(conn.execute(_INSERT_RECIPIENTS, recipient_rows).scalars().all())
        event_rows = []
        for mid, msg, now, addresses, fates, refused in planned:
            for address, fate in zip(addresses, fates, strict=True):
                event_rows.append(_queued_event(mid, next(ids), now, msg, address, fate, refused))
        conn.execute(events.insert(), event_rows)
        return results

    def _submit_one(self, msg: NewMessage, now: datetime) -> SubmitResult:
        if not msg.recipients:
            raise InputError("a message needs at least one recipient")
        addresses = list(dict.fromkeys(normalize_address(a) for a in msg.recipients))
        sending = _domain(msg.from_addr)
        if self.dialect == "sqlite":
            return self._submit_sqlite(msg, now, addresses, sending)
        try:
            with self.engine.begin() as conn:
                [result] = self._insert_many_pg(conn, [(msg, addresses, sending, now)])
                assert isinstance(result, SubmitResult)
                return result
        except IntegrityError as exc:
            return self._taken(msg, exc, exc.orig)
        except OperationalError as exc:
            raise StoreError(f"cannot write to the store {self.shown}: {exc.orig}", fix=fix_for(exc)) from exc

    def _submit_sqlite(
        self, msg: NewMessage, now: datetime, addresses: list[str], sending: str
    ) -> SubmitResult:
        """The same transaction through the sqlite3 driver (see sqlite_writes.py for why)."""
        try:
            result: SubmitResult
            result, _ = self.db.sqlite_write(submit_sqlite, msg, now, addresses, sending, what="write to")
        except sqlite3.IntegrityError as exc:
            return self._taken(msg, exc, exc)
        return result

    def _taken(self, msg: NewMessage, exc: Exception, why: object) -> SubmitResult:
        """A submit refused by a unique index: the message that a concurrent submit with the same
        idempotency key wrote, or :class:`StoreError`."""
        if msg.idempotency_key is not None:  # a concurrent submit with the same key won
            with self.reader.connect() as conn:
                found = conn.execute(_BY_KEY, {"key": msg.idempotency_key}).scalar()
            if found is not None:
                return SubmitResult(found, False)
        raise StoreError(f"submit failed: {why}") from exc

    # -- the queue ------------------------------------------------------------------------------
    def claim(self, limit: int, *, now: datetime, lease: float, owner: str) -> list[Claimed]:
        """Lease up to ``limit`` due recipients (oldest due first), and those whose lease ran out."""
        try:
            if self.dialect == "sqlite":
                found: ClaimedRows = self.db.sqlite_write(
                    claim_sqlite, limit, now, lease, owner, what="claim from"
                )
            else:
                found = self._claim_rows(limit, now, lease, owner)
        except OperationalError as exc:
            raise StoreError(
                f"cannot claim from the store {self.shown}: {exc.orig}", fix=fix_for(exc)
            ) from exc
        rows, info, blocked = found
        out = []
        for rid, mid, address, domain, attempts in sorted(rows):
            from_addr, sending, created, deadline, expires, category, raw = info[mid]
            addr = address.lower()
            stop = blocked.get((sending, addr)) or blocked.get(("*", addr))
            out.append(
                Claimed(
                    rid,
                    mid,
                    address,
                    domain,
                    from_addr,
                    sending,
                    attempts,
                    created,
                    deadline,
                    expires,
                    category,
                    raw,
                    stop,
                )
            )
        return out

    def _claim_rows(self, limit: int, now: datetime, lease: float, owner: str) -> ClaimedRows:
        """The claim through SQLAlchemy (PostgreSQL: rows another worker holds are skipped)."""
        r = recipients.c
        pg = self.dialect == "postgresql"
        with self.engine.begin() as conn:
            ids: list[int] = []
            for cond in (
                and_(r.fate == Fate.QUEUED.value, r.next_attempt_at <= now),
                and_(r.fate == Fate.DEFERRED.value, r.next_attempt_at <= now),
                and_(r.fate == Fate.SENDING.value, r.lease_until < now),
            ):
                if len(ids) >= limit:
                    break
                query = select(r.id).where(cond).order_by(r.next_attempt_at, r.id).limit(limit - len(ids))
                if pg:
                    query = query.with_for_update(skip_locked=True)
                ids.extend(conn.execute(query).scalars())
            if not ids:
                return [], {}, {}
            rows = conn.execute(
                update(recipients)
                .where(r.id.in_(ids))
                .values(
                    fate=Fate.SENDING.value,
                    lease_until=now + timedelta(seconds=lease),
                    lease_owner=owner,
                    attempts=r.attempts + 1,
                    updated_at=now,
                )
                .returning(r.id, r.message_id, r.address, r.domain, r.attempts)
            ).all()
            info = {
                m.id: (
                    m.from_addr,
                    m.sending_domain,
                    m.created_at,
                    m.deadline,
                    m.expires_at,
                    m.category,
                    bytes(m.raw),
                )
                for m in conn.execute(_CLAIM_INFO, {"ids": list({row.message_id for row in rows})})
            }
            addrs = list({row.address.lower() for row in rows})
            blocked = {
                (found.scope, found.address): to_suppression(found)
                for found in conn.execute(_SUPPRESSED_ANY, {"addrs": addrs})
            }
        return [tuple(row) for row in rows], info, blocked

    def due_in(self, now: datetime) -> float | None:
        """Seconds until the next recipient is due (0 if one is due now); None if nothing waits."""
        r = recipients.c
        with self.reader.connect() as conn:
            soon = [
                conn.execute(select(func.min(r.next_attempt_at)).where(r.fate == fate)).scalar()
                for fate in _OPEN
            ]
            soon.append(
                conn.execute(select(func.min(r.lease_until)).where(r.fate == Fate.SENDING.value)).scalar()
            )
        found = [t for t in soon if t is not None]
        if not found:
            return None
        first = min(t for t in (aware(x) for x in found) if t is not None)
        return max(0.0, (first - now).total_seconds())

    def raw(self, message_id: str) -> bytes:
        with self.reader.connect() as conn:
            raw = conn.execute(select(messages.c.raw).where(messages.c.id == message_id)).scalar()
        if raw is None:
            raise InputError(f"no message {message_id!r}")
        return bytes(raw)

    def renew(self, ids: Sequence[int], *, now: datetime, lease: float, owner: str) -> set[int]:
        """Extend to ``now + lease`` the leases ``owner`` still holds among ``ids`` (recipients it
        claimed and has not recorded); the ids renewed. An id missing from the answer was recorded
        meanwhile or its lease was lost (it ran out and another worker claimed it)."""
        renewed: set[int] = set()
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(ids), 500):
                    renewed.update(
                        conn.execute(
                            _RENEW,
                            {
                                "ids": list(ids[start : start + 500]),
                                "owner": owner,
                                "until": now + timedelta(seconds=lease),
                            },
                        ).scalars()
                    )
        except OperationalError as exc:
            raise StoreError(f"cannot renew leases in {self.shown}: {exc.orig}", fix=fix_for(exc)) from exc
        return renewed

    # -- results --------------------------------------------------------------------------------
    def record_attempts(self, records: Sequence[AttemptRecord], *, owner: str | None = None) -> int:
        """One transaction: an ``attempt`` event per record (and ``expired`` where it gave up), the
        recipients' fates, the messages' fates.

        ``owner`` (the worker's lease owner): only recipients still leased by ``owner`` change; a
        recipient whose lease was lost (it ran out and another worker claimed it) gets its
        ``attempt`` event, marked ``lease_lost`` — the attempt happened — but keeps its fate,
        schedule and lease. Returns how many results were recorded so (0 without ``owner``)."""
        if not records:
            return 0
        if self.dialect == "sqlite":
            return self.db.sqlite_write(record_sqlite, list(records), owner, what="record results in")
        r = recipients.c
        try:
            with self.engine.begin() as conn:
                current: dict[int, tuple[str, str]] = {}
                held: set[int] = set()
                for row in conn.execute(
                    select(r.id, r.message_id, r.fate, r.lease_owner).where(
                        r.id.in_([x.recipient_id for x in records])
                    )
                ):
                    current[row.id] = (row.message_id, row.fate)
                    if row.lease_owner is not None and row.lease_owner == owner:
                        held.add(row.id)
                event_rows, updates, touched = plan_attempts(records, current, held if owner else None)
                if event_rows:
                    conn.execute(events.insert(), event_rows)
                if updates and owner:
                    # the owner again in the UPDATE: a claim committed since the SELECT wins
                    conn.execute(_UPDATE_OWNED, [{**u, "owner": owner} for u in updates])
                elif updates:
                    conn.execute(_UPDATE_RECIPIENT, updates)
                refresh_messages(conn, touched)
        except OperationalError as exc:
            raise StoreError(f"cannot record results in {self.shown}: {exc.orig}", fix=fix_for(exc)) from exc
        return 0 if owner is None else len(current.keys() - held)

    def hold(self, held: Hold, *, owner: str | None = None) -> bool:
        """Give back a claimed recipient without an attempt: ``deferred`` (reason ``paused``) until
        ``held.until``. A ``held`` event is written the first time only (not at every look). False
        if the lease was lost meanwhile (to ``owner``'s knowledge, when given)."""
        r = recipients.c
        message_id, recipient_id, at = held.message_id, held.recipient_id, held.at
        with self.db.writing() as conn:
            row = conn.execute(
                select(r.fate, r.last_reason, r.lease_owner).where(
                    r.id == recipient_id, r.message_id == message_id
                )
            ).one_or_none()
            if row is None or row.fate != Fate.SENDING.value:
                return False
            if owner is not None and row.lease_owner != owner:
                return False
            conn.execute(
                update(recipients)
                .where(r.id == recipient_id)
                .values(
                    fate=Fate.DEFERRED.value,
                    attempts=r.attempts - 1,  # claimed, but not attempted
                    next_attempt_at=held.until,
                    lease_until=None,
                    lease_owner=None,
                    last_reason="paused",
                    updated_at=at,
                )
            )
            if row.last_reason != "paused":
                conn.execute(
                    events.insert().values(
                        **event_row(message_id, recipient_id, at, EventType.HELD, held.data, "paused", None)
                    )
                )
            refresh_messages(conn, {message_id})
        return True


def _message_row(
    mid: str, msg: NewMessage, now: datetime, sending: str, fates: Sequence[Fate]
) -> dict[str, Any]:
    return {
        "id": mid,
        "created_at": now,
        "from_addr": msg.from_addr,
        "sending_domain": sending,
        "subject": msg.subject,
        "category": msg.category,
        "tags": list(msg.tags),
        "idempotency_key": msg.idempotency_key,
        "deadline": msg.deadline,
        "expires_at": now + timedelta(seconds=msg.max_age),
        "header_message_id": msg.header_message_id,
        "size": len(msg.raw),
        "raw": msg.raw,
        "fate": message_fate(fates).value,
    }


def _recipient_rows(
    mid: str, now: datetime, addresses: Sequence[str], fates: Sequence[Fate], refused: dict[str, Suppression]
) -> list[dict[str, Any]]:
    return [
        {
            "message_id": mid,
            "address": a,
            "domain": _domain(a),
            "fate": f.value,
            "attempts": 0,
            "next_attempt_at": now if f is Fate.QUEUED else None,
            "updated_at": now,
            "last_reason": "suppressed" if f is Fate.SUPPRESSED else None,
            "last_text": refusal_text(refused[a.lower()]) if f is Fate.SUPPRESSED else None,
        }
        for a, f in zip(addresses, fates, strict=True)
    ]


def _queued_event(  # noqa: PLR0917 - one recipient's first event
    mid: str,
    rid: int,
    now: datetime,
    msg: NewMessage,
    address: str,
    fate: Fate,
    refused: dict[str, Suppression],
) -> dict[str, Any]:
    """The recipient's first event: ``queued``, or ``suppressed`` with the suppression's facts."""
    if fate is Fate.SUPPRESSED:
        s = refused[address.lower()]
        data = suppressed_event_data(s)
        return event_row(mid, rid, now, EventType.SUPPRESSED, data, "suppressed", None)
    queued: dict[str, Any] = {"category": msg.category}
    if msg.deadline:
        queued["deadline"] = msg.deadline.isoformat()
    return event_row(mid, rid, now, EventType.QUEUED, queued, None, None)
