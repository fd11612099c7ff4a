"""mailfate's events in Amazon SES's event-publishing shape, wrapped as SNS delivers them.

A webhook subscriber with ``format = "ses"`` gets each event as an SNS ``Notification`` whose
``Message`` is the JSON SES publishes to a configuration set's SNS destination: ``Send``,
``Delivery``, ``DeliveryDelay`` (with ``delayType``), ``Bounce`` (``bounceType`` Permanent or
Transient, ``bounceSubType``), ``Complaint``, ``Reject``. So code written for SES events —
django-anymail's Amazon SES tracking webhook, listmonk's SES bounce processing, a Lambda that
reads ``eventType`` — reads mailfate's events unchanged. ``mail.messageId`` is mailfate's message
id (what SendEmail through mailfate's SES endpoint answers as ``MessageId``).

The vocabulary is SES's own (the SES developer guide, "Contents of event data that Amazon SES
publishes to Amazon SNS"). The reason ↔ sub-type tables are read from
:mod:`mailfate.bounce.parsers.ses` (SES → reason, for the SES import) and turned around here, so
the two directions cannot drift apart. mailfate events with no SES counterpart (auto-replies,
holds, suppression-list changes) are not sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mailfate.bounce.parsers.ses import BOUNCE_SUBTYPE_REASONS, DELAY_REASONS
from mailfate.model import Event, MessageView
from mailfate.model.bounces import BounceClass, bounce_class

__all__ = ["SNS_HEADERS", "ses_event", "sns_notification", "topic_arn"]

SNS_HEADERS = ("x-amz-sns-message-type", "x-amz-sns-message-id", "x-amz-sns-topic-arn")
"""The headers SNS sets on a POST to an HTTP subscriber (and SES consumers compare to the body)."""


def _turned(table: Mapping[str, Any], *, prefer: Mapping[str, str]) -> dict[str, str]:
    """reason → SES name, from an SES name → reason table; ``prefer`` settles reasons two names share."""
    turned: dict[str, str] = {}
    for name, reason in table.items():
        turned.setdefault(str(reason), name)
    turned.update(prefer)
    return turned


_SUBTYPE = _turned(
    BOUNCE_SUBTYPE_REASONS,
    prefer={"suppressed": "Suppressed", "onhold": "General", "contenterror": "ContentRejected"},
)
_DELAY = _turned(DELAY_REASONS, prefer={"systemerror": "RecipientServerError", "onhold": "General"})


def topic_arn(name: str) -> str:
    """The TopicArn a subscriber's notifications carry: mailfate's own, never an AWS account's."""
    return f"arn:aws:sns:mailfate:000000000000:{name}"


def _time(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _mail(message: MessageView, at: datetime) -> dict[str, Any]:
    to = [r.address for r in message.recipients]
    return {
        "timestamp": _time(message.created_at),
        "source": message.from_addr,
        "sendingAccountId": "000000000000",
        "messageId": message.id,
        "destination": to,
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": message.from_addr},
            {"name": "Subject", "value": message.subject},
            {"name": "Message-ID", "value": message.header_message_id},
            *({"name": "X-Tag", "value": tag} for tag in message.tags),
        ],
        "commonHeaders": {
            "from": [message.from_addr],
            "to": to,
            "messageId": message.header_message_id,
            "subject": message.subject,
        },
        "tags": {
            "mailfate:category": [message.category],
            **({"mailfate:tag": list(message.tags)} if message.tags else {}),
        },
    }


def _reply(data: Mapping[str, Any]) -> str:
    """The receiver's answer as SES writes it in ``diagnosticCode`` / ``smtpResponse``."""
    if data.get("diagnostic"):
        return str(data["diagnostic"])
    return " ".join(str(data[k]) for k in ("code", "status", "text") if data.get(k))


def _bounce(event: Event, reason: str, hard: bool) -> dict[str, Any]:
    data = event.data
    subtype = _SUBTYPE.get(reason, "General")
    recipient: dict[str, Any] = {"emailAddress": event.recipient, "action": "failed"}
    if data.get("status"):
        recipient["status"] = str(data["status"])
    if _reply(data):
        recipient["diagnosticCode"] = "smtp; " + _reply(data)
    return {
        "bounceType": "Permanent" if hard or subtype == "Suppressed" else "Transient",
        "bounceSubType": subtype,
        "bouncedRecipients": [recipient],
        "timestamp": _time(event.at),
        "feedbackId": f"mailfate-{event.id}",
        **({"reportingMTA": f"dns; {data['remote_mta']}"} if data.get("remote_mta") else {}),
    }


def _delay(event: Event, reason: str, message: MessageView) -> dict[str, Any]:
    data = event.data
    recipient: dict[str, Any] = {"emailAddress": event.recipient}
    if data.get("status"):
        recipient["status"] = str(data["status"])
    if _reply(data):
        recipient["diagnosticCode"] = "smtp; " + _reply(data)
    return {
        "timestamp": _time(event.at),
        "delayType": _DELAY.get(reason, "General"),
        "expirationTime": _time(message.deadline or message.expires_at),
        "delayedRecipients": [recipient],
    }


def ses_event(event: Event, message: MessageView) -> dict[str, Any] | None:
    """The SES event for one mailfate event of ``message``; None when SES has no such event."""
    data, kind = event.data, event.type
    reason = str(data.get("reason") or "")
    body: dict[str, Any]
    if kind == "queued":
        body = {"eventType": "Send", "send": {}}
    elif kind == "attempt" and data.get("outcome") == "delivered":
        delivery = {
            "timestamp": _time(event.at),
            "processingTimeMillis": int((event.at - message.created_at).total_seconds() * 1000),
            "recipients": [event.recipient],
            "smtpResponse": _reply(data),
            **({"remoteMtaIp": data["remote_ip"]} if data.get("remote_ip") else {}),
            **({"reportingMTA": data["remote_host"]} if data.get("remote_host") else {}),
        }
        body = {"eventType": "Delivery", "delivery": delivery}
    elif (kind == "attempt" and data.get("outcome") == "deferred") or kind == "delayed":
        body = {"eventType": "DeliveryDelay", "deliveryDelay": _delay(event, reason, message)}
    elif (kind == "attempt" and data.get("outcome") == "bounced") or kind == "bounced":
        hard = bounce_class(kind, data.get("outcome"), data) is BounceClass.HARD  # the one definition
        body = {"eventType": "Bounce", "bounce": _bounce(event, reason, hard)}
    elif kind == "expired":
        body = {"eventType": "Bounce", "bounce": _bounce(event, reason, False)}
    elif kind == "suppressed":
        body = {"eventType": "Bounce", "bounce": _bounce(event, "suppressed", True)}
    elif kind == "complained":
        complaint = {
            "complainedRecipients": [{"emailAddress": event.recipient}],
            "timestamp": _time(event.at),
            "feedbackId": f"mailfate-{event.id}",
            **({"complaintFeedbackType": data["feedback_type"]} if data.get("feedback_type") else {}),
        }
        body = {"eventType": "Complaint", "complaint": complaint}
    elif kind == "rejected":
        body = {
            "eventType": "Reject",
            "reject": {"reason": str(data.get("detail") or reason or "Bad content")},
        }
    else:
        return None
    body["mail"] = _mail(message, event.at)
    return body


def sns_notification(ses: Mapping[str, Any], *, event: Event, topic: str) -> dict[str, Any]:
    """The SNS ``Notification`` that carries ``ses`` (unsigned by AWS: mailfate signs the POST
    with its own header; SNS's ``Signature`` fields are left empty)."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailfate:{topic}:{event.id}")),
        "TopicArn": topic,
        "Message": json.dumps(ses, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": _time(event.at),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    }
