"""mailfate's webhooks as Django signals, in the shape of django-anymail's tracking events.

::

    # urls.py
    from mailfate.django.tracking import TrackingView
    urlpatterns = [path("mailfate/tracking/", TrackingView.as_view())]

    # settings.py: the secret of the [[webhooks]] subscriber whose url is that path
    MAILFATE = {"WEBHOOK_SECRET": "..."}

    # anywhere
    from mailfate.django.tracking import tracking
    @receiver(tracking)
    def on_event(sender, event, esp_name, **kwargs):
        if event.event_type == "bounced":
            User.objects.filter(email=event.recipient).update(email_ok=False)

The view checks ``Mailfate-Signature`` (a forged, altered or replayed POST gets 403 and no
signal), then sends ``tracking`` with a :class:`TrackingEvent`. Event types are anymail's:
``queued``, ``delivered``, ``deferred``, ``bounced``, ``rejected``, ``complained``,
``autoresponded``, ``opened``, ``clicked``, ``unsubscribed``, ``sent``, ``unknown``; mailfate's
reason and cause ride along (``event.reason``, ``event.cause``), so a handler can tell a dead
mailbox from a block.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from mailfate.tracking.webhooks_out import SIGNATURE_HEADER, signature_problem

__all__ = ["TrackingEvent", "TrackingView", "event_of", "tracking"]

tracking = Signal()
"""Sent once per webhook POST with ``event`` (a :class:`TrackingEvent`) and ``esp_name="mailfate"``."""

_REJECT_REASON = {
    **dict.fromkeys(
        ("userunknown", "hostunknown", "mailboxfull", "hasmoved", "suspend", "notaccept"), "bounced"
    ),
    **dict.fromkeys(
        (
            "blocked",
            "rejected",
            "policyviolation",
            "securityerror",
            "authfailure",
            "badreputation",
            "requireptr",
            "norelaying",
            "filtered",
            "speeding",
            "toomanyconn",
        ),
        "blocked",
    ),
    **dict.fromkeys(("spamdetected", "virusdetected", "contenterror", "feedback"), "spam"),
    "expired": "timed_out",
}
"""anymail's ``reject_reason`` for mailfate's reason (anything else: ``other``)."""


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One mailfate event, named as anymail names its tracking events."""

    event_type: str
    timestamp: datetime
    event_id: str
    message_id: str
    recipient: str
    reject_reason: str | None = None
    """anymail's: ``bounced``, ``blocked``, ``spam``, ``timed_out``, ``unsubscribed``, ``other``."""
    description: str = ""
    """What happened, in words (mailfate's explanation when it gave one)."""
    mta_response: str = ""
    """The receiver's reply, as it answered."""
    reason: str = ""
    """mailfate's reason (``userunknown``, ``greylisted``, ``blocked`` …)."""
    cause: str = ""
    """mailfate's finer cause (``spf-fail``, ``ip-blocklisted`` …)."""
    esp_event: dict[str, Any] = field(default_factory=dict)
    """The webhook's JSON as posted."""


def _event_type(kind: str, outcome: str | None) -> str:
    if kind == "attempt":
        return {"delivered": "delivered", "deferred": "deferred", "bounced": "bounced"}.get(
            outcome or "", "unknown"
        )
    return {
        "queued": "queued",
        "bounced": "bounced",
        "expired": "bounced",
        "delayed": "deferred",
        "held": "deferred",
        "rejected": "rejected",
        "suppressed": "rejected",
        "complained": "complained",
        "autoreplied": "autoresponded",
        "opened": "opened",
        "clicked": "clicked",
        "unsubscribed": "unsubscribed",
        "sent": "sent",
        "delivery_report": "delivered",
    }.get(kind, "unknown")


def event_of(payload: dict[str, Any]) -> TrackingEvent:
    """The tracking event for one webhook body (``tracking/webhooks_out.event_payload``'s shape)."""
    kind, outcome = str(payload.get("type", "")), payload.get("outcome")
    event_type = _event_type(kind, outcome)
    data = payload.get("data") or {}
    reason = str(payload.get("reason") or data.get("reason") or "")
    reply = " ".join(str(data[k]) for k in ("code", "status", "text") if data.get(k))
    reject = None
    if event_type in ("bounced", "rejected", "complained"):
        reject = _REJECT_REASON.get("expired" if kind == "expired" else reason, "other")
    return TrackingEvent(
        event_type=event_type,
        timestamp=datetime.fromisoformat(str(payload["at"])),
        event_id=str(payload.get("id", "")),
        message_id=str(payload.get("message_id", "")),
        recipient=str(payload.get("recipient", "")),
        reject_reason=reject,
        description=str(data.get("meaning") or data.get("detail") or ""),
        mta_response=reply,
        reason=reason,
        cause=str(data.get("cause") or ""),
        esp_event=payload,
    )


@method_decorator(csrf_exempt, name="dispatch")
class TrackingView(View):  # type: ignore[misc]  # Django has no type hints
    """POST-only endpoint for a mailfate ``[[webhooks]]`` subscriber."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        secret = (getattr(django_settings, "MAILFATE", {}) or {}).get("WEBHOOK_SECRET")
        if not secret:
            raise ImproperlyConfigured('set MAILFATE["WEBHOOK_SECRET"] to the [[webhooks]] secret')
        body = request.body
        problem = signature_problem(secret, request.headers.get(SIGNATURE_HEADER, ""), body)
        if problem is not None:
            return HttpResponse(f"signature refused: {problem}", status=403, content_type="text/plain")
        try:
            payload = json.loads(body)
            if isinstance(payload, dict) and payload.get("type") == "alert":
                return HttpResponse(status=204)  # alerts are not message events
            event = event_of(payload)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return HttpResponse(f"not a mailfate event: {exc}", status=400, content_type="text/plain")
        tracking.send(sender=TrackingView, event=event, esp_name="mailfate")
        return HttpResponse(status=200)
