"""GMX / mail.com bounces: an Exim-like notice with GMX's own layout.

"kijitora@example.org":
SMTP error from remote server after RCPT command:
host: mx.example.org
5.1.1 <kijitora@example.org>... User Unknown

--- The header of the original message is following. ---
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import exim_stated_reason, exim_style_drafts

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "gmx"
PRIORITY = 250

_BOUNDARY = "--- The header of the original message is following. ---"
_SENDER = re.compile(r"@(?:[a-z0-9\-]+\.)*(?:gmx\.(?:com|net|de|at|ch)|mail\.com)\b")


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per failed address, or None when the mail is not a GMX notice."""
    text = mail.text
    if mail.message.get("X-GMX-Antispam") is None or _BOUNDARY not in text:
        if not _SENDER.search(mail.sender) or "mailer-daemon" not in mail.sender:
            return None
        if not mail.subject.lower().startswith("mail delivery failed"):
            return None
    drafts = exim_style_drafts(text)
    if not drafts:
        return None
    for draft in drafts:
        exim_stated_reason(draft)
    return drafts
