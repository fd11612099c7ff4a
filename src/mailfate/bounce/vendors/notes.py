"""Lotus Notes SMTP MTA (R4-R5 era): "------- Failure Reasons --------" blocks."""

from __future__ import annotations

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import ADDRESS, find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "notes"
PRIORITY = 300


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Notes bounce; None for other mail."""
    if not mail.subject.startswith("Undeliverable message"):
        return None
    body = readable(mail)
    if "------- Failure Reasons" not in body:
        return None
    reasons: list[str] = []
    recipients: list[str] = []
    reading = False
    returned = False
    seen_header = False
    for raw in body.split("\n"):
        line = raw.strip()
        if line.startswith("------- Failure Reasons"):
            reading = True
            continue
        if line.startswith("------- Returned Message"):
            returned = True
            continue
        if returned:
            # No address in the failure block: the returned message's To: names the recipient.
            if recipients or (not line and seen_header):
                break
            seen_header = seen_header or bool(line)
            if line.lower().startswith("to:"):
                address = find_address(line)
                if address:
                    recipients.append(address)
            continue
        if not reading or not line:
            continue
        if ADDRESS.fullmatch(line.strip("<>")):
            recipients.append(line.strip("<>"))
        else:
            reasons.append(line)
    text = " ".join(reasons)
    return [reply_draft(r, text) for r in recipients] or None
