"""Verizon Wireless (vtext.com SMS gateway, vzwpix.com MMS): "Error: ..." bounces."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable, reply_draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "verizon"
PRIORITY = 300

_RCPT = re.compile(r"^\s*(?:RCPT TO|To):\s*(.+)$", re.MULTILINE)
_MESSAGES = (
    ("no such user here", Reason.USERUNKNOWN),
    ("no valid recipients", Reason.USERUNKNOWN),
)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Verizon gateway bounce; None for other mail."""
    sender = mail.sender
    if "post_master@vtext.com" not in sender and not ("sysadmin@" in sender and ".vzwpix.com" in sender):
        return None
    body = readable(mail)
    marker = min(
        (i for i in (body.find("Original Message:"), body.find("Message details:")) if i >= 0), default=-1
    )
    if marker < 0:
        return None
    head, tail = body[:marker], body[marker:]
    error_at = head.find("Error:")
    text = " ".join(head[error_at:].split()) if error_at >= 0 else ""
    m = _RCPT.search(tail)
    recipient = find_address(m.group(1)) if m else ""
    if not recipient:
        return None
    draft = reply_draft(recipient, text)
    lowered = text.lower()
    draft.reason = next((r for phrase, r in _MESSAGES if phrase in lowered), None)
    return [draft]
