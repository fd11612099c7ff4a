"""Mail.Ru's bounce: Exim's notice, preceded by a Russian version of the same list.

    Это письмо создано автоматически сервером Mail.Ru, отвечать на него не нужно.
    ...
    This message was created automatically by mail delivery software.
    ... The following address(es) failed:

      kijitora@example.org
        SMTP error from remote mail server after RCPT TO:<kijitora@example.org>:
        host mx.example.org [192.0.2.1]: 550 5.1.1 <kijitora@example.org>... User Unknown

Only the English list is read, so each recipient appears once.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import exim_stated_reason, exim_style_drafts

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mailru"
PRIORITY = 250

_SENDER = re.compile(r"@(?:[a-z0-9\-]+\.)*mail\.ru\b")


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per failed address, or None when the mail is not a Mail.Ru notice."""
    if not _SENDER.search(mail.sender) or "mailer-daemon" not in mail.sender:
        return None
    drafts = exim_style_drafts(mail.text)
    if not drafts:
        return None
    for draft in drafts:
        exim_stated_reason(draft)
    return drafts
