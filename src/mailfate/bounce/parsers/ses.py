"""Amazon SES notifications and events (JSON) to bounce records.

Both SES schemas are read: the identity "feedback notifications" (``notificationType``: Bounce,
Complaint, Delivery) and configuration-set "event publishing" (``eventType``: Bounce, Complaint,
Delivery, DeliveryDelay, Reject, Send, Open, Click, Rendering Failure, Subscription). The payload may
come bare, inside an SNS envelope (``{"Type": "Notification", "Message": "<json string>"}``), inside an
EventBridge event (``{"source": "aws.ses", "detail": {...}}``) or as a JSON array of those.

What becomes a record, one per recipient, in the order SES lists them:

- Bounce: every ``bouncedRecipients`` item. The diagnostic code is classified by the shared rules;
  the sub-type states the reason only where SES is specific: Suppressed and OnAccountSuppressionList
  -> suppressed, MailboxFull -> mailboxfull, MessageTooLarge -> mesgtoobig, NoEmail -> userunknown
  (a generic reason, so a more specific diagnostic still wins), General -> onhold. ContentRejected
  (-> contenterror) and AttachmentRejected (-> securityerror) are used only when neither the
  diagnostic text nor its status code decides.
- Complaint: ``complainedRecipients`` with reason feedback and ``complaintFeedbackType`` as the
  feedback type ("" when the reporting ISP gave none). A complaint whose ``complaintSubType`` is
  OnAccountSuppressionList was never sent: reason suppressed.
- Delivery: ``recipients`` with reason delivered and ``smtpResponse`` as the diagnostic.
- DeliveryDelay: ``delayedRecipients``, action delayed, always soft (SES is still trying, so even a
  "user unknown" reply is not a hard bounce yet). ``delayType`` gives a reason, see
  :data:`DELAY_REASONS`; the generic ones (systemerror, networkerror, onhold) yield to the
  diagnostic text. ``expirationTime`` is kept in ``Draft.extra["expiration_time"]``.
- Reject: every ``mail.destination`` address; "Bad content" (SES found a virus) -> virusdetected.
- Send, Open, Click, Rendering Failure, Subscription, inbound Received notifications and SNS
  subscription confirmations report no bounce: ``[]``.

``original_message_id`` is the SES message id (``mail.messageId``, the id ``SendEmail`` returned),
not the RFC 5322 Message-ID header, because that is the id a sender can look the message up by;
``original_envelope_sender`` is ``mail.source``.

This is not a mail parser for the registry (it reads JSON, not mail): call :func:`parse_ses_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from mailfate.bounce.classify import Classifier, default_classifier
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.errors import ParseError
from mailfate.model.reasons import Reason
from mailfate.model.reply import normalize_status

__all__ = [
    "BOUNCE_SUBTYPE_REASONS",
    "DELAY_REASONS",
    "PARSER_NAME",
    "parse_ses_json",
    "ses_drafts",
    "ses_events",
]

PARSER_NAME = "amazonses-json"
"""The ``parser`` field of the records, and the source name the classifier sees."""

BOUNCE_SUBTYPE_REASONS: dict[str, Reason] = {
    "Suppressed": Reason.SUPPRESSED,
    "OnAccountSuppressionList": Reason.SUPPRESSED,
    "MailboxFull": Reason.MAILBOXFULL,
    "MessageTooLarge": Reason.MESGTOOBIG,
    "NoEmail": Reason.USERUNKNOWN,
    "General": Reason.ONHOLD,
}
"""``bounceSubType`` values that state a reason (the classifier refines the generic ones)."""

_FALLBACK_SUBTYPE_REASONS: dict[str, Reason] = {
    "ContentRejected": Reason.CONTENTERROR,
    "AttachmentRejected": Reason.SECURITYERROR,
}

DELAY_REASONS: dict[str, Reason] = {
    "InternalFailure": Reason.SYSTEMERROR,  # a problem inside SES
    "General": Reason.ONHOLD,  # "a generic failure during the SMTP conversation"
    "MailboxFull": Reason.MAILBOXFULL,
    "SpamDetected": Reason.SPAMDETECTED,
    "RecipientServerError": Reason.SYSTEMERROR,  # the recipient's server has a problem
    "IPFailure": Reason.BLOCKED,  # the sending IP is blocked or throttled by the recipient
    "TransientCommunicationFailure": Reason.NETWORKERROR,
    "BYOIPHostNameLookupUnavailable": Reason.NETWORKERROR,  # SES could not look up the IP's host name
    "SendingDeferral": Reason.ONHOLD,  # SES deferred the message itself and says no more
    "Undetermined": Reason.UNDEFINED,
}
"""``delayType`` to reason. SendingDeferral names no cause, so it is onhold rather than a guess."""

_SNS_TYPES = frozenset({"Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"})
_MAX_ITEMS = 10_000


def parse_ses_json(
    data: bytes | str | dict[str, Any] | list[Any], *, classifier: Classifier | None = None
) -> list[BounceRecord]:
    """Records for an SES notification or event (bare, in SNS or EventBridge, or a list of them).

    Raises :class:`ParseError` for broken JSON and for JSON that is not SES, SNS or EventBridge.
    """
    clf = classifier or default_classifier()
    out: list[BounceRecord] = []
    for draft, fallback in _drafts_with_fallbacks(_load(data)):
        record = clf.resolve(draft, PARSER_NAME)
        if fallback is not None and record.rule_id.startswith("fallback:"):
            draft.reason = fallback
            record = clf.resolve(draft, PARSER_NAME)
        # A DeliveryDelay (action "delayed") is never hard: SES is still trying (Classifier.resolve).
        out.append(record)
    return out


def ses_events(data: bytes | str | dict[str, Any] | list[Any]) -> list[dict[str, Any]]:
    """The SES event objects in a payload (SNS, EventBridge and list wrappers removed), each with
    its ``eventType`` or ``notificationType``; raises :class:`ParseError` like :func:`parse_ses_json`."""
    return list(_events(_load(data)))


def ses_drafts(payload: dict[str, Any] | list[Any]) -> list[Draft]:
    """The drafts of an already decoded payload, before classification."""
    return [draft for draft, _ in _drafts_with_fallbacks(payload)]


def _load(data: bytes | str | dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
    if isinstance(data, dict | list):
        return data
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        try:
            data = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError("SES JSON is not UTF-8", parser=PARSER_NAME, raw=raw[:4096]) from exc
    if not isinstance(data, str):
        raise ParseError(f"cannot read SES JSON from {type(data).__name__}", parser=PARSER_NAME)
    try:
        loaded = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"broken JSON: {exc}", parser=PARSER_NAME, raw=data[:4096].encode()) from exc
    if not isinstance(loaded, dict | list):
        raise ParseError("JSON is not an object", parser=PARSER_NAME, raw=data[:4096].encode())
    return loaded


def _events(payload: object, depth: int = 0) -> Iterator[dict[str, Any]]:
    """The SES objects inside a payload: SNS, EventBridge and list wrappers removed."""
    if isinstance(payload, list) and depth == 0:
        for item in payload[:_MAX_ITEMS]:
            yield from _events(item, depth + 1)
        return
    if not isinstance(payload, dict):
        raise ParseError("not an SES notification: expected a JSON object", parser=PARSER_NAME)
    if payload.get("Type") in _SNS_TYPES and ("Message" in payload or "TopicArn" in payload):
        if payload["Type"] != "Notification":
            return  # subscription housekeeping
        inner = payload.get("Message")
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except (ValueError, RecursionError) as exc:
                raise ParseError("SNS message is not SES JSON", parser=PARSER_NAME) from exc
        if depth > 2 or not isinstance(inner, dict):
            raise ParseError("SNS message is not an SES notification", parser=PARSER_NAME)
        yield from _events(inner, depth + 1)
        return
    if payload.get("source") == "aws.ses" and isinstance(payload.get("detail"), dict) and depth <= 2:
        yield from _events(payload["detail"], depth + 1)
        return
    kind = payload.get("notificationType", payload.get("eventType"))
    if not isinstance(kind, str):
        raise ParseError("not an SES notification: no notificationType or eventType", parser=PARSER_NAME)
    yield payload


def _drafts_with_fallbacks(payload: dict[str, Any] | list[Any]) -> list[tuple[Draft, Reason | None]]:
    out: list[tuple[Draft, Reason | None]] = []
    for event in _events(payload):
        out.extend(_event_drafts(event))
    return out


def _event_drafts(event: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    kind = str(event.get("notificationType", event.get("eventType", ""))).strip()
    mail = _object(event, "mail", required=False)
    key = kind.lower()
    if key == "bounce":
        found = _bounces(_object(event, "bounce"))
    elif key == "complaint":
        found = _complaints(_object(event, "complaint"))
    elif key == "delivery":
        found = _deliveries(_object(event, "delivery"))
    elif key in ("deliverydelay", "delivery delay"):
        found = _delays(_object(event, "deliveryDelay"))
    elif key == "reject":
        found = _rejects(_object(event, "reject"), mail)
    else:  # Send, Open, Click, Rendering Failure, Subscription, Received and future types
        return []
    message_id = _text(mail.get("messageId"))
    sender = parseaddr(_text(mail.get("source")))[1] or _text(mail.get("source"))
    for draft, _ in found:
        draft.original_message_id = message_id
        draft.original_envelope_sender = sender
    return found


def _bounces(bounce: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    subtype = _text(bounce.get("bounceSubType"))
    stated = BOUNCE_SUBTYPE_REASONS.get(subtype)
    fallback = _FALLBACK_SUBTYPE_REASONS.get(subtype)
    when = _timestamp(bounce.get("timestamp"))
    reporting = _mta(bounce.get("reportingMTA"))
    remote = _text(bounce.get("remoteMtaIp"))
    out: list[tuple[Draft, Reason | None]] = []
    for item in _items(bounce, "bouncedRecipients"):
        dtype, diagnostic = _diagnostic(item.get("diagnosticCode"))
        draft = Draft(
            recipient=_text(item.get("emailAddress")),
            action=_text(item.get("action")).lower() or "failed",
            status=normalize_status(_text(item.get("status"))),
            diagnostic=diagnostic,
            diagnostic_type=dtype,
            remote_mta=remote,
            reporting_mta=reporting,
            timestamp=when,
            reason=stated,
            vouched=stated is not None and _text(bounce.get("bounceType")) == "Permanent",
        )
        draft.extra["bounce_type"] = _text(bounce.get("bounceType"))
        draft.extra["bounce_subtype"] = subtype
        out.append((draft, fallback))
    return out


def _complaints(complaint: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    suppressed = _text(complaint.get("complaintSubType")) == "OnAccountSuppressionList"
    feedback_type = "" if suppressed else _text(complaint.get("complaintFeedbackType")).lower()
    when = _timestamp(complaint.get("timestamp")) or _timestamp(complaint.get("arrivalDate"))
    return [
        (
            Draft(
                recipient=_text(item.get("emailAddress")),
                reason=Reason.SUPPRESSED if suppressed else Reason.FEEDBACK,
                feedback_type=feedback_type,
                diagnostic=_text(complaint.get("userAgent")),
                timestamp=when,
            ),
            None,
        )
        for item in _items(complaint, "complainedRecipients")
    ]


def _deliveries(delivery: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    response = _text(delivery.get("smtpResponse"))
    return [
        (
            Draft(
                recipient=_text(item.get("emailAddress")),
                action="delivered",
                status=normalize_status(response) or "2.0.0",
                diagnostic=response,
                remote_mta=_text(delivery.get("remoteMtaIp")),
                reporting_mta=_mta(delivery.get("reportingMTA")),
                timestamp=_timestamp(delivery.get("timestamp")),
                reason=Reason.DELIVERED,
            ),
            None,
        )
        for item in _items(delivery, "recipients")
    ]


def _delays(delay: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    stated = DELAY_REASONS.get(_text(delay.get("delayType")))
    when = _timestamp(delay.get("timestamp"))
    expires = _timestamp(delay.get("expirationTime"))
    out: list[tuple[Draft, Reason | None]] = []
    for item in _items(delay, "delayedRecipients"):
        dtype, diagnostic = _diagnostic(item.get("diagnosticCode"))
        draft = Draft(
            recipient=_text(item.get("emailAddress")),
            action="delayed",
            status=normalize_status(_text(item.get("status"))),
            diagnostic=diagnostic,
            diagnostic_type=dtype,
            reporting_mta=_mta(delay.get("reportingMTA")),
            timestamp=when,
            reason=stated,
        )
        draft.extra["delay_type"] = _text(delay.get("delayType"))
        draft.extra["expiration_time"] = expires
        out.append((draft, None))
    return out


def _rejects(reject: dict[str, Any], mail: dict[str, Any]) -> list[tuple[Draft, Reason | None]]:
    why = _text(reject.get("reason"))
    stated = Reason.VIRUSDETECTED if why.lower() == "bad content" else None
    when = _timestamp(mail.get("timestamp"))
    return [
        (
            Draft(
                recipient=_text(item.get("emailAddress")),
                action="failed",
                diagnostic=why,
                reason=stated,
                timestamp=when,
            ),
            None,
        )
        for item in _items(mail, "destination")
    ]


# -- field readers ---------------------------------------------------------------------------------
def _object(event: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = event.get(key)
    if isinstance(value, dict):
        return value
    if value is None and not required:
        return {}
    raise ParseError(f"SES notification without a {key!r} object", parser=PARSER_NAME)


def _items(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The recipient entries of a list field; bare address strings become ``{"emailAddress": ...}``."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"SES field {key!r} is not a list", parser=PARSER_NAME)
    out: list[dict[str, Any]] = []
    for item in value[:_MAX_ITEMS]:
        entry = {"emailAddress": item} if isinstance(item, str) else item
        if isinstance(entry, dict) and _text(entry.get("emailAddress")):
            out.append(entry)
    return out


def _text(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _diagnostic(value: object) -> tuple[str, str]:
    """("smtp", "550 5.1.1 user unknown") from "smtp; 550 5.1.1 user unknown"."""
    text = " ".join(_text(value).split())
    head, sep, rest = text.partition(";")
    if sep and head and len(head) <= 16 and " " not in head.strip():
        return head.strip(), rest.strip()
    return "", text


def _mta(value: object) -> str:
    """ "mta.example.com" from "dsn; mta.example.com"."""
    return _text(value).rpartition(";")[2].strip()


def _timestamp(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
