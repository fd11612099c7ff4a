"""Unidentified MTA "X2": "Unable to deliver message to the following address(es)." (qmail-derived)."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import body_before, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x2"
PRIORITY = 340

_SUBJECTS = ("failed delivery", "failure delivery", "delivery failure", "permanent delivery failure")
_RECIPIENT = re.compile(r"^<([^>\s]+@[^>\s]+)>:\s*$")
_STOP = ("--- Original message follows.", "--- Below this line is a copy of the message.")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an X2 bounce; None for other mail."""
    if mail.subject.strip().lower() not in _SUBJECTS and "mailer-daemon@" not in mail.sender:
        return None
    body = readable(mail)
    if "Unable to deliver message to the following address" not in body:
        return None
    drafts: list[Draft] = []
    texts: list[list[str]] = []
    for raw in body_before(body, _STOP):
        line = raw.strip()
        m = _RECIPIENT.match(line)
        if m:
            drafts.append(Draft(recipient=m.group(1)))
            texts.append([])
        elif drafts and line:
            texts[-1].append(line.lstrip("/"))
    return [reply_draft(d.recipient, " ".join(t)) for d, t in zip(drafts, texts, strict=True)] or None
