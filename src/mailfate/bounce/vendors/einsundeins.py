"""1&1 (IONOS, kundenserver.de) bounces: an Exim-like notice with the reason in its own paragraph.

The following address failed:

kijitora@example.org

For the following reason:

Mail size limit exceeded. For explanation visit
http://postmaster.1and1.com/en/error-messages?ip=%1s

--- The header of the original message is following. ---
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import exim_stated_reason, exim_style_drafts

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "einsundeins"
PRIORITY = 250

_SENDER = re.compile(
    r"@(?:[a-z0-9\-]+\.)*(?:kundenserver\.[a-z.]+|1und1\.[a-z.]+|1and1\.[a-z.]+|ionos\.[a-z.]+)"
)
_BOUNDARY = "--- The header of the original message is following. ---"
_MARKS = ("For the following reason:", "postmaster.1and1.com", "postmaster.1und1.de", "ionos.")


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per failed address, or None when the mail is not a 1&1 notice."""
    if "mailer-daemon" not in mail.sender or not mail.subject.lower().startswith("mail delivery failed"):
        return None
    text = mail.text
    # Other United Internet mailers (web.de ...) use the same notice; GMX has its own module.
    united = _BOUNDARY in text and mail.message.get("X-GMX-Antispam") is None and "gmx" not in mail.sender
    if not _SENDER.search(mail.sender) and not any(m in text for m in _MARKS) and not united:
        return None
    if "For the following reason:" not in text and "SMTP error from remote server" not in text:
        return None
    drafts = exim_style_drafts(text)
    if not drafts:
        return None
    for draft in drafts:
        exim_stated_reason(draft)
    return drafts
