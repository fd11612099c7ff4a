"""Apache James: "Error message below:" bounces (JavaMail Message-IDs, James SMTP Server)."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "apachejames"
PRIORITY = 320

_RCPT = re.compile(r"^\s*RCPT TO:\s*(.+)$", re.MULTILINE)
_FAILED_RECIPIENTS = re.compile(r"^Failed recipient\(s\):\s*$", re.MULTILINE)


def _is_james(mail: Mail) -> bool:
    if mail.subject == "[BOUNCE]":
        return True
    if ".JavaMail." in mail.header("Message-ID"):
        return True
    return any("JAMES SMTP Server" in r for r in mail.headers("Received"))


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an Apache James bounce; None for other mail."""
    if not _is_james(mail):
        return None
    body = readable(mail)
    details = body.find("Message details:")
    if details < 0:
        return None
    at = body.find("Error message below:", 0, details)
    start = at + len("Error message below:") if at >= 0 else 0
    text = " ".join(body[start:details].split())
    recipients: list[str] = []
    failed = _FAILED_RECIPIENTS.search(body)
    if failed:
        for line in body[failed.end() :].split("\n"):
            address = find_address(line)
            if not address:
                break
            recipients.append(address)
    if not recipients:
        tail = body[details:]
        recipients = [find_address(m.group(1)) for m in _RCPT.finditer(tail)]
    return [reply_draft(r, text) for r in recipients if r] or None
