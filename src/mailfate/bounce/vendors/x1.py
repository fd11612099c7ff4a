"""Unidentified MTA "X1": "Mail Deliver System" bounces listing "address [reason]" lines."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x1"
PRIORITY = 340

_LINE = re.compile(r"^(\S+@\S+)\s+\[(.+)\]\s*$")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an X1 bounce; None for other mail."""
    sender = mail.sender
    if not (
        mail.subject.startswith(("Returned Mail: ", "Mail Delivery Failure"))
        or sender.startswith(('"mail deliver system"', "mail deliver system"))
    ):
        return None
    body = readable(mail)
    if "The original message was received at " not in body:
        return None
    drafts: list[Draft] = []
    for raw in body.split("\n"):
        m = _LINE.match(raw.strip())
        if m:
            drafts.append(reply_draft(m.group(1), m.group(2)))
    return drafts or None
