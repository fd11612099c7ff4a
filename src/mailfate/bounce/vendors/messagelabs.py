"""Symantec/Broadcom Email Security.cloud (MessageLabs) bounces.

Sent by ``MAILER-DAEMON@messagelabs.com`` as a multipart/report: a text part ("This is the mail
delivery agent at messagelabs.com. I was unable to deliver your message to the following
addresses: ... Reason: 550 ...") and an RFC 3464 part reported by ``*.messagelabs.com``, which is
read here. The replies themselves are classified by the reply rules.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import dsn_drafts, dsn_text

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "messagelabs"
PRIORITY = 255

_SENDER = re.compile(r"@(?:[a-z0-9\-]+\.)*messagelabs\.com\b")
_REPORTER = re.compile(r"^Reporting-MTA:\s*dns;\s*\S+\.messagelabs\.com\s*$", re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a MessageLabs bounce, or None when the mail is not one."""
    if not _SENDER.search(mail.sender):
        return None
    text = dsn_text(mail)
    if not _REPORTER.search(text):
        return None
    return dsn_drafts(text) or None
