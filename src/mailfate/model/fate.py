"""Fates and the events that decide them.

A recipient's fate is a fold over its events in order (:func:`fate_of`); the store keeps the
result in a column for queries, written in the same transaction as the event, and a test checks
that the two agree.

The fold follows cause, not arrival. A report (a DSN, a complaint, an auto-reply) is about a
delivery that happened, but it can be stored before the attempt that made it: the attempt waits in
a worker's batch, or in another process, when the DSN comes back 50 ms after the 250. So a report
decides the fate even while the recipient is still open, and a later attempt does not move a fate
that is already final: events of one recipient fold to the same fate in any order of arrival that
keeps its attempts in order (a property test checks every interleaving). ::

    queued ──attempt──▶ sending ──▶ delivered ──▶ complained / autoreplied
       │                   │    └──▶ deferred ──(retry)──▶ sending …  ──▶ expired
       ├──▶ suppressed     └──────▶ bounced (5xx, or a DSN after a 250)
       └──▶ rejected (refused before sending)

``sending`` is a lease, not an event: a worker holds the recipient for one attempt; a worker
killed mid-attempt leaves a lease that runs out, and the recipient is tried again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

__all__ = [
    "FINAL_FATES",
    "OPEN_FATES",
    "REPORT_EVENTS",
    "EventType",
    "Fate",
    "advance",
    "fate_of",
    "fold_step",
    "message_fate",
]


class Fate(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    EXPIRED = "expired"
    SUPPRESSED = "suppressed"
    REJECTED = "rejected"
    COMPLAINED = "complained"
    AUTOREPLIED = "autoreplied"


OPEN_FATES = frozenset({Fate.QUEUED, Fate.SENDING, Fate.DEFERRED})
"""Still being worked on: a worker will try again."""
FINAL_FATES = frozenset(set(Fate) - OPEN_FATES)
"""Known. ``delivered`` can still become ``bounced`` (a late DSN), ``complained`` or ``autoreplied``."""


class EventType(StrEnum):
    QUEUED = "queued"
    """Accepted from the application; data: category, deadline."""
    ATTEMPT = "attempt"
    """One delivery attempt; data: outcome (delivered|deferred|bounced), the reply and its
    classification, remote host and IP, TLS version, timings, next_attempt_at when deferred."""
    EXPIRED = "expired"
    """Given up at the deadline or the maximum age; data: the last reason and reply."""
    SUPPRESSED = "suppressed"
    """Refused because the address is suppressed; data: the suppression's reason and date."""
    REJECTED = "rejected"
    """Refused before sending (the transport refused the message itself); data: why."""
    BOUNCED = "bounced"
    """An asynchronous bounce (a DSN to the VERP address, an SES notification)."""
    DELAYED = "delayed"
    """An asynchronous delay notice (DSN Action: delayed): information, the fate does not change."""
    COMPLAINED = "complained"
    """An ARF complaint (or an SES complaint)."""
    AUTOREPLIED = "autoreplied"
    """An RFC 3834 auto-reply (out of office)."""
    SUPPRESSION_ADDED = "suppression_added"
    """This recipient's address was put on the suppression list (after a hard bounce or complaint)."""
    HELD = "held"
    """Not attempted: marketing mail from this sending domain is paused (``[alerts]
    pause_marketing``) while its bounce or complaint rate is past a critical line; data: the
    alert and when it is looked at again. The recipient waits as ``deferred`` (reason ``paused``)."""
    SENT = "sent"
    """A provider (Amazon SES) accepted the message and will deliver it: information."""
    DELIVERY_REPORT = "delivery_report"
    """A provider reports that the receiving server accepted the message (SES Delivery): its
    reply, remote MTA and processing time. Information: the fate does not change."""
    OPENED = "opened"
    """The recipient opened the message (SES Open: a tracking pixel loaded): information."""
    CLICKED = "clicked"
    """The recipient followed a link (SES Click): information."""
    UNSUBSCRIBED = "unsubscribed"
    """The recipient changed their subscription (SES Subscription): information."""


REPORT_EVENTS = frozenset({EventType.BOUNCED, EventType.DELAYED, EventType.COMPLAINED, EventType.AUTOREPLIED})
"""Events that come back from the receiving side after an attempt (a DSN, a delay notice, an ARF
complaint, an auto-reply): they carry no transport of their own."""

_ATTEMPT = {"delivered": Fate.DELIVERED, "deferred": Fate.DEFERRED, "bounced": Fate.BOUNCED}
_AFTER_DELIVERY = OPEN_FATES | {Fate.DELIVERED, Fate.AUTOREPLIED, Fate.COMPLAINED}
"""Where a complaint applies: after the delivery, or before its attempt is stored."""
_BEFORE_REPLIES = OPEN_FATES | {Fate.DELIVERED}


def advance(fate: Fate, kind: str, outcome: str = "") -> Fate:
    """The fate after one more event of type ``kind`` (``outcome`` for attempts)."""
    if kind == EventType.QUEUED:
        return Fate.QUEUED
    if kind == EventType.ATTEMPT:  # a final fate stays: a report about this delivery came first
        return _ATTEMPT.get(outcome, fate) if fate in OPEN_FATES else fate
    if kind == EventType.EXPIRED:
        return Fate.EXPIRED if fate in OPEN_FATES else fate
    if kind == EventType.SUPPRESSED:
        return Fate.SUPPRESSED
    if kind == EventType.HELD:
        return Fate.DEFERRED if fate in OPEN_FATES else fate
    if kind == EventType.REJECTED:
        return Fate.REJECTED
    if kind == EventType.BOUNCED:  # a DSN after a 250, or while still retrying
        return Fate.BOUNCED if fate not in (Fate.SUPPRESSED, Fate.REJECTED) else fate
    if kind == EventType.COMPLAINED:
        return Fate.COMPLAINED if fate in _AFTER_DELIVERY else fate
    if kind == EventType.AUTOREPLIED:
        return Fate.AUTOREPLIED if fate in _BEFORE_REPLIES else fate
    return fate


def fold_step(kind: str, data: Mapping[str, object]) -> tuple[str, str]:
    """The ``(event type, outcome)`` a stored event folds as. What a worker recorded after its
    lease was lost (``lease_lost``: another worker held the recipient by then) happened, and is on
    the timeline, but decides nothing: the worker holding the lease records the fate."""
    if data.get("lease_lost"):
        return "", ""
    if kind == EventType.ATTEMPT:
        return kind, str(data.get("outcome") or "")
    return kind, ""


def fate_of(events: Iterable[tuple[str, str]]) -> Fate:
    """The fate after ``events``, each ``(event type, attempt outcome or "")``, in order."""
    fate = Fate.QUEUED
    for kind, outcome in events:
        fate = advance(fate, kind, outcome)
    return fate


_PRECEDENCE = (
    Fate.SENDING, Fate.DEFERRED, Fate.QUEUED,  # open first: the message is not done
    Fate.BOUNCED, Fate.EXPIRED, Fate.REJECTED, Fate.SUPPRESSED, Fate.COMPLAINED,
    Fate.AUTOREPLIED, Fate.DELIVERED,
)  # fmt: skip


def message_fate(recipient_fates: Iterable[Fate | str]) -> Fate:
    """A message's fate from its recipients': the one they share, else the most pressing (open
    before failed before delivered) — a message to three people with one bounce is ``bounced``."""
    present = {Fate(f) for f in recipient_fates}
    if not present:
        return Fate.QUEUED
    return next(f for f in _PRECEDENCE if f in present)
