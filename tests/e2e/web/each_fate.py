"""One message of each fate in a real store, and what every count must say about them.

Written through the store's own paths (submit, claim, record the attempt, append the report), the
way the worker and the report doors write them. One recipient domain per case, so the receivers
page can be checked row by row. Hard and soft as :mod:`mailfate.model.bounces` defines them:

==================  ===========================================  =========
recipient domain    what happened                                counts as
==================  ===========================================  =========
delivered.test      250                                          —
hard.test           550 5.1.1 user unknown                       hard
relay.test          554 5.7.1 relay access denied (norelaying)   soft
dsnhard.test        250, then a DSN: host unknown                hard
dsnsoft.test        250, then a DSN: mailbox full                soft
expired.test        451 greylisted, 451 again past the deadline  soft (expired)
deferred.test       451, to be retried                           —
complained.test     250, then an ARF complaint                   —
suppressed.test     refused at submit: the address is suppressed —
==================  ===========================================  =========
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mailfate.model import AttemptRecord, AttemptResult, EventType, NewEvent, NewMessage, NewSuppression
from mailfate.store import Store

__all__ = ["EXPECTED", "HARD", "SENDER", "SENT", "SOFT", "seed"]

SENDER = "app.example"
HARD = 2
SOFT = 3
EXPIRED = 1
SENT = 8
"""Answered for good: 4 deliveries (delivered, both DSN cases, complained) and 4 bounces (2 hard,
2 soft); the expiry and the deferrals are no answer."""
EXPECTED: dict[str, tuple[int, int, int]] = {
    "delivered.test": (0, 0, 0),
    "hard.test": (1, 0, 0),
    "relay.test": (0, 1, 0),
    "dsnhard.test": (1, 0, 0),
    "dsnsoft.test": (0, 1, 0),
    "expired.test": (0, 1, 1),
    "deferred.test": (0, 0, 0),
    "complained.test": (0, 0, 0),
    "suppressed.test": (0, 0, 0),
}
"""Per recipient domain: (hard, soft, of which expired)."""

OK = AttemptResult("delivered", 250, "2.0.0", "ok", "delivered", False)
USER_UNKNOWN = AttemptResult("bounced", 550, "5.1.1", "user unknown", "userunknown", True)
RELAY_DENIED = AttemptResult("bounced", 554, "5.7.1", "Relay access denied", "norelaying", False)
GREY = AttemptResult("deferred", 451, "4.7.1", "greylisted, try again", "greylisting", False)


def _submit(store: Store, to: str, at: datetime) -> tuple[str, int]:
    result = store.queue.submit(
        NewMessage(f"no-reply@{SENDER}", (to,), b"Subject: code\r\n\r\n123456\r\n"), at
    )
    rid = store.messages.find_recipient(result.message_id, to)
    assert rid is not None
    return result.message_id, rid


def _attempt(
    store: Store, to: str, result: AttemptResult, at: datetime, *, retry: timedelta | None = None
) -> tuple[str, int]:
    mid, rid = _submit(store, to, at - timedelta(seconds=2))
    [claimed] = store.queue.claim(1, now=at, lease=60, owner="seed")
    assert claimed.recipient_id == rid
    store.queue.record_attempts([AttemptRecord(rid, result, at, at + retry if retry else None)], owner="seed")
    return mid, rid


def seed(store: Store, now: datetime) -> None:
    """Write the cases above, all within the half hour before ``now``."""
    at = now - timedelta(minutes=30)
    _attempt(store, "ok@delivered.test", OK, at)
    _attempt(store, "gone@hard.test", USER_UNKNOWN, at)
    _attempt(store, "kim@relay.test", RELAY_DENIED, at)
    mid, rid = _attempt(store, "moved@dsnhard.test", OK, at)
    store.messages.append_event(NewEvent(
        mid, rid, EventType.BOUNCED, at + timedelta(minutes=1),
        {"hardbounce": True, "status": "5.1.2", "diagnostic": "Host unknown"}, reason="hostunknown",
    ))  # fmt: skip
    mid, rid = _attempt(store, "full@dsnsoft.test", OK, at)
    store.messages.append_event(NewEvent(
        mid, rid, EventType.BOUNCED, at + timedelta(minutes=1),
        {"hardbounce": False, "status": "5.2.2", "diagnostic": "Mailbox full"}, reason="mailboxfull",
    ))  # fmt: skip
    mid, rid = _attempt(store, "ok@complained.test", OK, at)
    store.messages.append_event(
        NewEvent(mid, rid, EventType.COMPLAINED, at + timedelta(minutes=2), {"feedback_type": "abuse"})
    )
    # greylisted, retried ten minutes later, greylisted again past the deadline: expired
    _, rid = _attempt(store, "slow@expired.test", GREY, at, retry=timedelta(minutes=10))
    [claimed] = store.queue.claim(1, now=at + timedelta(minutes=10), lease=60, owner="seed")
    assert claimed.recipient_id == rid
    store.queue.record_attempts(
        [AttemptRecord(rid, GREY, at + timedelta(minutes=10), expire=True)], owner="seed"
    )
    store.suppressions.suppress(NewSuppression(SENDER, "gone@suppressed.test", "hard bounce"), at=at)
    _submit(store, "gone@suppressed.test", at + timedelta(minutes=11))
    # still open: retried in an hour
    _attempt(store, "wait@deferred.test", GREY, now - timedelta(minutes=5), retry=timedelta(hours=1))
