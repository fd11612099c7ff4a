"""OpenSMTPD: "Delivery status notification" mails listing "address: error" lines (and a DSN part)."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_report, host_of, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "opensmtpd"
PRIORITY = 300

_SUBJECT = re.compile(r"^Delivery status notification(?::\s*(\w+))?", re.IGNORECASE)
_START = re.compile(r"(?:following|list of) recipients:\s*$")
_STOP = re.compile(
    r"^\s*(?:Below is a copy of the original message|Please note that this is only a temporary)"
)
_RECIPIENT_LINE = re.compile(r"^(\S+@\S+?):\s+(.+)$")


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per "address: error" line of an OpenSMTPD report; None for other mail."""
    subject = _SUBJECT.match(mail.subject)
    if subject is None or "mailer-daemon" not in mail.sender:
        return None
    body = readable(mail)
    if "This is the MAILER-DAEMON" not in body:
        return None
    delayed = (subject.group(1) or "").lower() in ("warning", "delayed") or "is delayed for" in body
    dsn = dsn_report(mail)
    drafts: list[Draft] = []
    reading = False
    for line in body.split("\n"):
        if not reading:
            reading = bool(_START.search(line))
            continue
        if _STOP.match(line):
            break
        m = _RECIPIENT_LINE.match(line.strip())
        if m is None:
            if drafts and line.strip() and line[:1] in " \t":
                drafts[-1].diagnostic += " " + line.strip()
            continue
        fields = dsn.for_recipient(m.group(1))
        status = fields.get("status", "")
        action = fields.get("action", "delayed" if delayed else "failed").lower()
        remote = host_of(fields.get("remote-mta", ""))
        draft = reply_draft(
            m.group(1),
            m.group(2),
            status=status if not status.endswith(".0.0") else "",
            action=action,
            remote_mta=remote,
        )
        drafts.append(draft)
    return drafts or None
