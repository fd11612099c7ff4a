"""Barracuda Spam & Virus Firewall: "... was blocked by our Spam Firewall" notices with a DSN part."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import dsn_drafts, dsn_report, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "barracuda"
PRIORITY = 300

_TO = re.compile(r"^Your message to:\s*(\S+@\S+)", re.MULTILINE)


def _is_barracuda(mail: Mail) -> bool:
    if mail.subject.startswith("**Message you sent blocked by our bulk email filter**"):
        return True
    return any("(Spam Firewall)" in r for r in mail.headers("Received")[:3])


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from a Barracuda notice; None for other mail."""
    if not _is_barracuda(mail):
        return None
    drafts = dsn_drafts(dsn_report(mail))
    if drafts:
        return drafts
    body = readable(mail)
    m = _TO.search(body)
    if m is None:
        return None
    return [reply_draft(m.group(1), "blocked by the Spam Firewall")]
