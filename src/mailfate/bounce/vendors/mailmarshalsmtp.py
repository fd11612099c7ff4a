"""MailMarshal SMTP (Trustwave): "Could not be delivered because of" and the recipients affected."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import ADDRESS, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mailmarshalsmtp"
PRIORITY = 300

_REMOTE = re.compile(r"^Remote-MTA:\s*<?([^>\s]+)>?")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a MailMarshal bounce; None for other mail."""
    if not mail.subject.startswith("Undeliverable Mail: "):
        return None
    body = readable(mail)
    if "Could not be delivered because of" not in body:
        return None
    reason: list[str] = []
    recipients: list[str] = []
    remote = ""
    section = ""
    for raw in body.split("\n"):
        line = raw.strip()
        if line.startswith("Could not be delivered because of"):
            section = "reason"
            continue
        if line.startswith("The following recipients were affected"):
            section = "recipients"
            continue
        if line.startswith("Additional Information"):
            section = "info"
            continue
        if not line:
            if section == "recipients" and recipients:
                section = ""
            continue
        if section == "reason":
            reason.append(line)
        elif section == "recipients" and ADDRESS.fullmatch(line.strip("<>")):
            recipients.append(line.strip("<>"))
        elif section == "info":
            m = _REMOTE.match(line)
            if m:
                remote = m.group(1)
    text = " ".join(reason)
    return [reply_draft(r, text, remote_mta=remote) for r in recipients] or None
