"""MailFoundry: "Unable to deliver message to: <address>" and "Delivery failed for the following reason:"."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mailfoundry"
PRIORITY = 300

_RECIPIENT = re.compile(r"^Unable to deliver message to:\s*<?([^>\s]+@[^>\s]+)>?")
_PEER = re.compile(r"^(?:Server )?(\S+?)\[[^\]]*\] (?:failed with|responded with failure):\s*")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a MailFoundry bounce; None for other mail."""
    if mail.subject != "Message delivery has failed" or "mailer-daemon" not in mail.sender:
        return None
    body = readable(mail)
    if "Delivery failed for the following reason:" not in body:
        return None
    drafts: list[Draft] = []
    reading = False
    lines: list[str] = []
    remote = ""
    recipient = ""
    for raw in body.split("\n"):
        line = raw.strip()
        m = _RECIPIENT.match(line)
        if m:
            recipient = find_address(m.group(1))
            continue
        if line.startswith("Delivery failed for the following reason:"):
            reading = True
            continue
        if not reading:
            continue
        if not line or line.startswith("This has been a permanent failure"):
            if lines:
                break
            continue
        peer = _PEER.match(line)
        if peer:
            remote = peer.group(1)
            line = line[peer.end() :]
        lines.append(line)
    if recipient:
        drafts.append(reply_draft(recipient, " ".join(lines), remote_mta=remote))
    return drafts or None
