"""RFC 5965 Abuse Reporting Format complaints, and older complaint formats that predate it.

A ``multipart/report; report-type=feedback-report`` mail (or one with a ``message/feedback-report``
part) gives one draft per ``Original-Rcpt-To`` (else ``Removal-Recipient``, else the ``To:`` of the
returned message), reason ``feedback`` and the ``Feedback-Type``. Also read: Hotmail/Outlook.com
JMRP complaints ("complaint about message from ..."), which carry the recipient in
``X-HmXmrOriginalRecipient``, and Apple Mail's one-click unsubscribe mails (opt-out).
"""

from __future__ import annotations

import email.utils
import re
from email.message import Message

from mailfate.bounce.mail import Mail, decode_header, parse_date
from mailfate.bounce.record import Draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "arf"
PRIORITY = 100

_FIELD = re.compile(
    r"(?im)^(feedback-type|original-rcpt-to|removal-recipient|original-mail-from|"
    r"arrival-date|received-date|source-ip|reported-domain|user-agent)\s*:\s*(.+)$"
)
_ADDRESS = re.compile(r"[^\s<>\"'();,:]+@[^\s<>\"'();,:]+")
_JMRP_SUBJECT = re.compile(r"complaint about message from", re.I)
_JMRP_SENDER = re.compile(r"staff@hotmail\.com|@(?:hotmail|outlook|msn|live)\.[a-z.]+", re.I)
_FEEDBACK_TYPES = frozenset(
    {"abuse", "fraud", "virus", "other", "not-spam", "opt-out", "auth-failure", "dkim", "spf", "unsubscribe"}
)


def _is_arf(mail: Mail) -> bool:
    if mail.content_type == "multipart/report":
        report_type = mail.message.get_param("report-type")
        if isinstance(report_type, str) and report_type.strip('"').lower() == "feedback-report":
            return True
    return mail.part("message/feedback-report") is not None


def _report_text(mail: Mail) -> str:
    part = mail.part("message/feedback-report")
    if part is not None:
        return part.text
    for p in mail.parts:
        if p.content_type.startswith("text/") and "feedback-type" in p.text.lower():
            return p.text
    return ""


def _addresses(value: str) -> list[str]:
    return [a.strip(".") for a in _ADDRESS.findall(value)]


def _original_to(inner: Message | None) -> list[str]:
    if inner is None:
        return []
    pairs = email.utils.getaddresses([decode_header(v) for v in inner.get_all("To", [])])
    return [addr for _, addr in pairs if "@" in addr]


def _drafts(recipients: list[str], kind: str, sender: str, mail: Mail, timestamp_raw: str) -> list[Draft]:
    when = parse_date(timestamp_raw) or mail.date
    inner = mail.original()
    mid = ""
    if inner is not None:
        mid = decode_header(inner.get("Message-ID")).strip()
    out: list[Draft] = []
    for rcpt in recipients or [""]:
        out.append(
            Draft(
                recipient=rcpt,
                reason=Reason.FEEDBACK,
                feedback_type=kind,
                original_envelope_sender=sender,
                timestamp=when,
                original_message_id=mid,
            )
        )
    return out


def _parse_arf(mail: Mail) -> list[Draft]:
    fields: dict[str, list[str]] = {}
    for m in _FIELD.finditer(_report_text(mail)):
        fields.setdefault(m.group(1).lower(), []).append(m.group(2).strip())
    words = (fields.get("feedback-type") or ["abuse"])[0].lower().split()
    kind = words[0] if words else "other"
    if kind not in _FEEDBACK_TYPES:
        kind = "other"
    recipients: list[str] = []
    for value in fields.get("original-rcpt-to", []) + fields.get("removal-recipient", []):
        for addr in _addresses(value):
            if addr not in recipients:
                recipients.append(addr)
    if not recipients:
        recipients = _original_to(mail.original())
    senders = _addresses(" ".join(fields.get("original-mail-from", [])))
    when = (fields.get("arrival-date") or fields.get("received-date") or [""])[0]
    return _drafts(recipients, kind, senders[0] if senders else "", mail, when)


def _parse_jmrp(mail: Mail) -> list[Draft]:
    inner = mail.original()
    recipients: list[str] = []
    sender = ""
    if inner is not None:
        recipients = _addresses(decode_header(inner.get("X-HmXmrOriginalRecipient")))
        if not recipients:
            recipients = _original_to(inner)
        sender = next(iter(_addresses(decode_header(inner.get("From")))), "")
    return _drafts(recipients, "abuse", sender, mail, "")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts with reason feedback for a complaint report; None for any other mail."""
    if _is_arf(mail):
        return _parse_arf(mail)
    if (
        _JMRP_SUBJECT.search(mail.subject)
        and _JMRP_SENDER.search(mail.sender)
        and mail.original() is not None
    ):
        return _parse_jmrp(mail)
    if mail.header("X-Apple-Unsubscribe").strip().lower() == "true":
        recipients = [a for _, a in email.utils.getaddresses([mail.header("From")]) if "@" in a]
        return _drafts(recipients, "opt-out", "", mail, "")
    return None
