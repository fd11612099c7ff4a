"""Amazon SES: the bounce mails SES sends, and SES notifications delivered by mail through SNS.

* DSN mails from ``MAILER-DAEMON@*.amazonses.com``: RFC 3464 fields, sometimes with the remote
  reply wrapped in SES's own words (``5.1.0 - Unknown address error 550-'5.2.2 ... Mailbox Full'``)
  or ``554 4.4.7 Message expired: ... <421 4.4.2 Connection timed out>``; the wrapped reply is the
  real one and wins.
* SNS e-mail subscriptions (From ``no-reply@sns.amazonaws.com``, Subject "AWS Notification
  Message") whose body is the SES notification JSON: Bounce, Complaint and Delivery notifications.

Amazon WorkMail bounces come from SES hosts too but carry ``X-Mailer: Amazon WorkMail``; they are
read by amazonworkmail.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from mailfate.bounce.mail import Mail, parse_date
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import dsn_drafts, dsn_text, split_diagnostic
from mailfate.model.reasons import Reason
from mailfate.model.reply import STATUS_PATTERN, normalize_status

__all__ = ["NAME", "PRIORITY", "parse", "unwrap_reply"]

NAME = "amazonses"
PRIORITY = 260

_SES_HOST = re.compile(r"@(?:[a-z0-9\-]+\.)*amazonses\.com\b")
# "5.1.0 - Unknown address error 550-'5.2.2 <x@example.org>... Mailbox Full' (delivery attempts: 0)"
_QUOTED_REPLY = re.compile(r"\b([245]\d\d)[ -]'(.{1,1000}?)'(?:\s|$|\()")
# "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>"
_BRACKETED_REPLY = re.compile(r"<([245]\d\d)[ -]((?:" + STATUS_PATTERN + r" )?[^<>]{1,500})>\s*$")
_SNS_LINE_BREAK = re.compile(r"!\n ")
# bounceSubType values that name the reason (AWS SES notification contents); "General",
# "NoEmail" and "Undetermined" say nothing more than the diagnostic does.
_SUBTYPES = {
    "Suppressed": Reason.SUPPRESSED,
    "OnAccountSuppressionList": Reason.SUPPRESSED,
    "MailboxFull": Reason.MAILBOXFULL,
    "MessageTooLarge": Reason.MESGTOOBIG,
    "ContentRejected": Reason.CONTENTERROR,
    "AttachmentRejected": Reason.SECURITYERROR,
}


def unwrap_reply(diagnostic: str) -> tuple[str, str, str] | None:
    """(reply code, status, text) of the remote reply SES wrapped in its own words, or None."""
    m = _QUOTED_REPLY.search(diagnostic) or _BRACKETED_REPLY.search(diagnostic)
    if m is None:
        return None
    code, text = m.group(1), m.group(2).strip()
    return code, normalize_status(text), f"{code} {text}"


def _fix(draft: Draft) -> Draft:
    inner = unwrap_reply(draft.diagnostic)
    if inner is not None:
        code, status, text = inner
        draft.replycode = code
        if status:
            draft.status = status
        draft.diagnostic = text
    elif draft.status.endswith(".0.0") or not draft.status:
        # "Status: 5.0.0" with a precise code in the diagnostic: the diagnostic is more specific.
        found = normalize_status(draft.diagnostic)
        if found and found[0] == (draft.status[:1] or found[0]):
            draft.status = found
    return draft


def _dsn(mail: Mail) -> list[Draft] | None:
    text = dsn_text(mail)
    if not text:
        return None
    drafts = dsn_drafts(text)
    if not drafts:
        return None
    return [_fix(d) for d in drafts]


# -- SNS notifications by mail ----------------------------------------------------------------------


def _load_json(body: str) -> dict[str, Any] | None:
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    blob = _SNS_LINE_BREAK.sub("", body[start : end + 1])
    try:
        data = json.loads(blob)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _notification(data: dict[str, Any]) -> list[Draft] | None:
    kind = str(data.get("notificationType") or data.get("eventType") or "")
    mail_obj = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    message_id = str(mail_obj.get("messageId", "")) if isinstance(mail_obj, dict) else ""
    sender = str(mail_obj.get("source", "")) if isinstance(mail_obj, dict) else ""
    drafts: list[Draft] = []
    if kind == "Bounce":
        bounce = data.get("bounce") or {}
        stated = _SUBTYPES.get(str(bounce.get("bounceSubType", "")))
        for item in bounce.get("bouncedRecipients") or []:
            if not isinstance(item, dict):
                continue
            dtype, diag = split_diagnostic(str(item.get("diagnosticCode", "")))
            drafts.append(
                Draft(
                    recipient=str(item.get("emailAddress", "")),
                    action=str(item.get("action", "failed")),
                    status=normalize_status(str(item.get("status", ""))),
                    diagnostic=diag,
                    diagnostic_type=dtype,
                    reporting_mta=str(bounce.get("reportingMTA", "")).split(";")[-1].strip(),
                    timestamp=_timestamp(bounce.get("timestamp")),
                    reason=stated,
                )
            )
    elif kind == "Complaint":
        complaint = data.get("complaint") or {}
        for item in complaint.get("complainedRecipients") or []:
            if isinstance(item, dict):
                drafts.append(
                    Draft(
                        recipient=str(item.get("emailAddress", "")),
                        reason=Reason.FEEDBACK,
                        feedback_type=str(complaint.get("complaintFeedbackType", "") or "abuse"),
                        timestamp=_timestamp(complaint.get("timestamp")),
                    )
                )
    elif kind == "Delivery":
        delivery = data.get("delivery") or {}
        response = str(delivery.get("smtpResponse", ""))
        for rcpt in delivery.get("recipients") or []:
            drafts.append(
                Draft(
                    recipient=str(rcpt),
                    action="delivered",
                    status=normalize_status(response) or "2.0.0",
                    diagnostic=response,
                    remote_mta=str(delivery.get("remoteMtaIp", "")),
                    reporting_mta=str(delivery.get("reportingMTA", "")),
                    timestamp=_timestamp(delivery.get("timestamp")),
                    reason=Reason.DELIVERED,
                )
            )
    else:
        return None
    for d in drafts:
        d.original_message_id = message_id
        d.original_envelope_sender = sender
    return drafts


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parse_date(value)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for an SES bounce mail or SES notification mail, or None when it is neither."""
    sender = mail.sender
    if "no-reply@sns.amazonaws.com" in sender:
        if "AWS Notification Message" not in mail.subject:
            return None
        data = _load_json(mail.text)
        return _notification(data) if data is not None else None
    if not _SES_HOST.search(sender) or "Amazon WorkMail" in mail.header("X-Mailer"):
        return None
    return _dsn(mail)
