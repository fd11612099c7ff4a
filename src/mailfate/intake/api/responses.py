"""Response bodies of the HTTP API: one pydantic model per answer, and next to it the function that
builds it (``*_json``). A route declares the model (``response_model=``: OpenAPI documents it) and
returns :func:`answer` of the function's data, so nothing is validated twice on the way out:
checking a page of 100 events against its model would cost more than the rest of the request.
``tests/unit/intake/test_api_openapi.py`` holds every route's answer to its model, field for field.

``mailfate trace --json`` prints :func:`message_json`, so the CLI and the API say the same thing.
Times are ISO 8601 strings as Python writes them (``2026-12-06T02:01:06.123456+00:00``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from mailfate.model.fate import REPORT_EVENTS
from mailfate.model.simulated import SIMULATED_LABEL, simulated, simulated_events

if TYPE_CHECKING:
    from mailfate.client import Sent, SuppressedError
    from mailfate.model import MessageSummary, MessageView, Suppression, WebhookLogEntry
    from mailfate.model.records import Event
    from mailfate.tracking.alerts import Alert

__all__ = [
    "AlertOut",
    "AlertsOut",
    "DomainStatsOut",
    "EventOut",
    "EventsOut",
    "HealthOut",
    "MessageAccepted",
    "MessageOut",
    "MessageSummaryOut",
    "RecipientOut",
    "SearchOut",
    "SnsApplied",
    "SnsConfirmed",
    "SnsIgnored",
    "StatsOut",
    "SuppressedErrorOut",
    "SuppressedOut",
    "SuppressedRecipient",
    "SuppressionAdded",
    "SuppressionOut",
    "SuppressionRemoved",
    "SuppressionsOut",
    "WebhookLogEntryOut",
    "WebhookLogOut",
    "accepted_json",
    "alerts_json",
    "answer",
    "event_json",
    "events_json",
    "message_json",
    "reply_line",
    "search_json",
    "suppressed_json",
    "suppressions_json",
    "webhook_log_json",
]

IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
_JSON = TypeAdapter(dict[str, Any])


def answer(data: dict[str, Any], status: int = 200) -> Response:
    """``data`` as FastAPI sends a ``dict`` (pydantic's JSON), with ``status``; the route's
    ``response_model`` documents it."""
    return Response(_JSON.dump_json(data), status_code=status, media_type="application/json")


# -- submitting ---------------------------------------------------------------------------------
class SuppressedRecipient(BaseModel):
    """A recipient not sent to: suppressed since ``since`` for ``reason``."""

    address: str
    reason: str
    since: IsoTime


def _suppressed(found: tuple[tuple[str, str, datetime], ...]) -> list[dict[str, str]]:
    return [{"address": a, "reason": r, "since": s.isoformat()} for a, r, s in found]


class MessageAccepted(BaseModel):
    """202: the message is queued (or was, under the same ``idempotency_key``)."""

    message_id: str
    existing: bool = Field(
        default=False, description="present (true) when the idempotency key named an earlier message"
    )
    suppressed: list[SuppressedRecipient] = Field(
        default_factory=list, description="present when some recipients were not sent to"
    )


def accepted_json(sent: Sent) -> dict[str, Any]:
    """:class:`MessageAccepted`, with ``existing`` and ``suppressed`` only when they apply."""
    out: dict[str, Any] = {"message_id": sent.message_id}
    if not sent.created:
        out["existing"] = True
    if sent.suppressed:
        out["suppressed"] = _suppressed(sent.suppressed)
    return out


class SuppressedOut(BaseModel):
    """Why nothing was sent: every recipient is suppressed."""

    message: str
    message_id: str
    suppressed: list[SuppressedRecipient]


class SuppressedErrorOut(BaseModel):
    """409: every recipient is suppressed, nothing was queued."""

    detail: SuppressedOut


def suppressed_json(exc: SuppressedError) -> dict[str, Any]:
    """:class:`SuppressedOut`: the 409's ``detail``."""
    return {"message": str(exc), "message_id": exc.message_id, "suppressed": _suppressed(exc.suppressed)}


# -- one message --------------------------------------------------------------------------------
class RecipientOut(BaseModel):
    id: int
    address: str
    domain: str
    fate: str
    attempts: int
    reason: str | None
    next_attempt_at: IsoTime | None
    last_reply: str = Field(description="the last SMTP reply: code, enhanced status, text")
    last_code: int | None
    last_status: str | None
    last_text: str | None


class EventOut(BaseModel):
    """One row of a timeline; the fields after ``type`` depend on it (an attempt's reply, a
    bounce's reason...)."""

    model_config = ConfigDict(extra="allow")

    id: int
    message_id: str
    recipient: str
    at: IsoTime
    type: str


class MessageOut(BaseModel):
    """A message, each recipient's fate and the timeline (``mailfate trace --json``)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    message_id: str
    fate: str
    from_: str = Field(alias="from")
    subject: str
    created_at: IsoTime
    deadline: IsoTime | None
    expires_at: IsoTime
    category: str
    tags: list[str]
    header_message_id: str
    size: int
    recipients: list[RecipientOut]
    events: list[EventOut]
    no_worker: str | None = Field(
        default=None,
        description="with ?wait=: the fate is not known and no worker runs on the store (why the wait ended)",
    )


def message_json(view: MessageView, *, no_worker: str | None = None) -> dict[str, Any]:
    """:class:`MessageOut`: what ``GET /v1/messages/{id}`` answers and ``mailfate trace --json``
    prints (``no_worker`` only when a wait ended because no worker runs)."""
    answered = simulated_events(view.events)
    doc: dict[str, Any] = {
        "message_id": view.id,
        "fate": view.fate,
        "from": view.from_addr,
        "subject": view.subject,
        "created_at": view.created_at.isoformat(),
        "deadline": view.deadline.isoformat() if view.deadline else None,
        "expires_at": view.expires_at.isoformat(),
        "category": view.category,
        "tags": list(view.tags),
        "header_message_id": view.header_message_id,
        "size": view.size,
        "recipients": [
            {
                "id": r.id,
                "address": r.address,
                "domain": r.domain,
                "fate": r.fate,
                "attempts": r.attempts,
                "reason": r.last_reason,
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                "last_reply": reply_line(r.last_code, r.last_status, r.last_text),
                "last_code": r.last_code,
                "last_status": r.last_status,
                "last_text": r.last_text,
            }
            for r in view.recipients
        ],
        "events": [event_json(e, answered) for e in view.events],
    }
    if no_worker is not None:
        doc["no_worker"] = no_worker
    return doc


def event_json(event: Event, answered: set[int] | None = None) -> dict[str, Any]:
    """One timeline row as JSON; an attempt or a report says whether the built-in simulator
    answered it (``"simulated"``, and ``"answered_by": "simulated receiver"`` when it did).
    ``answered``: :func:`mailfate.model.simulated.simulated_events` of the whole timeline (a
    report alone cannot tell; without it only an attempt's own transport counts)."""
    doc = event.to_json()
    if event.type != "attempt" and event.type not in REPORT_EVENTS:
        return doc
    sim = event.id in answered if answered is not None else simulated(doc.get("transport"))
    return {**doc, "simulated": sim, **({"answered_by": SIMULATED_LABEL["en"]} if sim else {})}


def reply_line(code: int | None, status: str | None, text: str | None) -> str:
    """``554 5.7.1 Relay access denied``: the code, the enhanced status unless the text already
    begins with it (most servers write it there), the text."""
    text = (text or "").strip()
    shown = status if status and not text.startswith(status) else None
    return " ".join(str(x) for x in (code, shown, text) if x)


# -- lists --------------------------------------------------------------------------------------
class MessageSummaryOut(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    message_id: str
    created_at: IsoTime
    from_: str = Field(alias="from")
    subject: str
    fate: str
    to: list[str]
    tags: list[str]


class SearchOut(BaseModel):
    """Messages found, newest first; ``next_cursor`` (null at the end) gives the next page."""

    messages: list[MessageSummaryOut]
    next_cursor: str | None


def search_json(items: list[MessageSummary], next_cursor: str | None) -> dict[str, Any]:
    """:class:`SearchOut`."""
    return {"messages": [m.to_json() for m in items], "next_cursor": next_cursor}


class EventsOut(BaseModel):
    """Events after the cursor, oldest first; ``next_cursor`` is the last one's id."""

    events: list[EventOut]
    next_cursor: int


def events_json(events: list[Event], cursor: int) -> dict[str, Any]:
    """:class:`EventsOut`: ``events`` read after ``cursor``, which stays the cursor if none were."""
    return {"events": [e.to_json() for e in events], "next_cursor": events[-1].id if events else cursor}


class SuppressionOut(BaseModel):
    address: str
    scope: str
    reason: str
    detail: str
    since: IsoTime


class SuppressionsOut(BaseModel):
    suppressions: list[SuppressionOut]


def suppressions_json(items: list[Suppression]) -> dict[str, Any]:
    """:class:`SuppressionsOut`."""
    return {
        "suppressions": [
            {
                "address": s.address,
                "scope": s.scope,
                "reason": s.reason,
                "detail": s.detail,
                "since": s.created_at.isoformat(),
            }
            for s in items
        ]
    }


class SuppressionAdded(BaseModel):
    """201: ``added`` is false when the address was suppressed already."""

    address: str
    scope: str
    added: bool


class SuppressionRemoved(BaseModel):
    address: str
    scope: str
    removed: bool


# -- numbers ------------------------------------------------------------------------------------
class DomainStatsOut(BaseModel):
    domain: str
    total: int
    fates: dict[str, int]
    bounces: dict[str, int] = Field(description="hard, soft (expiries included), expired")


class StatsOut(BaseModel):
    """Recipients per fate; per recipient domain, the busiest first."""

    recipients: dict[str, int]
    bounces: dict[str, int] = Field(description="recipients that bounced: hard, soft, expired")
    domains: list[DomainStatsOut]


class AlertOut(BaseModel):
    rule: str
    severity: str = Field(description='"warning" or "critical"')
    subject: str = Field(description="the sending or recipient domain concerned")
    value: float
    threshold: float
    message: str
    source: str


class AlertsOut(BaseModel):
    """Thresholds crossed now."""

    alerts: list[AlertOut]


def alerts_json(found: list[Alert]) -> dict[str, Any]:
    """:class:`AlertsOut`."""
    return {"alerts": [a.to_json() for a in found]}


class WebhookLogEntryOut(BaseModel):
    id: int
    subscriber: str
    event_id: int
    at: IsoTime
    attempt: int
    status_code: int | None
    error: str
    duration_ms: int
    outcome: str


class WebhookLogOut(BaseModel):
    """Newest first; ``next_before`` (null at the end) pages back."""

    log: list[WebhookLogEntryOut]
    next_before: int | None


def webhook_log_json(rows: list[WebhookLogEntry], limit: int) -> dict[str, Any]:
    """:class:`WebhookLogOut` of ``rows`` read with ``limit``: a full page may have more behind it."""
    more = len(rows) == limit
    return {"log": [r.to_json() for r in rows], "next_before": rows[-1].id if more else None}


# -- SNS and health -----------------------------------------------------------------------------
class SnsConfirmed(BaseModel):
    confirmed: bool


class SnsIgnored(BaseModel):
    ignored: str = Field(description="the SNS message type, neither a notification nor a confirmation")


class SnsApplied(BaseModel):
    applied: int
    unmatched: int
    errors: int


class HealthOut(BaseModel):
    status: str
