"""Zoho Mail bounces (``mailer-daemon@mail.zoho.com``, ``X-ZohoMail``).

One line per recipient in the text part::

    nobody@example.org Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <nobody@example.org>... Unknown
    nobody@example.org Error, ERROR_CODE :421, ERROR_CODE :, Host not reachable.

and, in delay notices::

    [Status: Error, Address: <nobody@example.org>, ResponseCode 421, , Host not reachable.]

"Host not reachable" is Zoho's own verdict after it gave up retrying: ``expired``.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.model.reasons import Reason
from mailfate.model.reply import normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "zoho"
PRIORITY = 255

_LINE = re.compile(
    r"^<?([^\s<>@]{1,200}@[A-Za-z0-9.\-]{1,253})>? {1,4}([^,\n]{0,80}), {0,4}ERROR_CODE {0,4}: {0,4}(\d{3})?"
    r" {0,4}, {0,4}ERROR_CODE {0,4}: {0,4}(.*)$"
)
_DELAY = re.compile(
    r"\[Status: [^,\]]{0,40}, Address: <([^<>\s]+@[^<>\s]+)>, ResponseCode (\d{3})?, ([^\]]*)\]"
)


def _draft(recipient: str, code: str, text: str, delayed: bool) -> Draft:
    text = text.strip(" ,")
    draft = Draft(
        recipient=recipient,
        action="delayed" if delayed else "failed",
        replycode=code,
        status=normalize_status(text),
        diagnostic=f"{code} {text}".strip() if code else text,
        diagnostic_type="SMTP",
    )
    if "host not reachable" in text.lower():
        draft.reason = Reason.EXPIRED
    return draft


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per recipient line, or None when the mail is not a Zoho bounce."""
    if mail.message.get("X-ZohoMail") is None and "Zoho Mail" not in mail.header("X-Mailer"):
        return None
    if "mailer-daemon" not in mail.sender:
        return None
    part = mail.part("text/plain")
    if part is None:
        return None
    delayed = "(Delay)" in mail.subject
    drafts: list[Draft] = []
    for raw in part.text.split("\n"):
        line = raw.strip()
        m = _LINE.match(line)
        if m:
            drafts.append(_draft(m.group(1), m.group(3) or "", m.group(4), delayed))
            continue
        d = _DELAY.search(line)
        if d:
            drafts.append(_draft(d.group(1), d.group(2) or "", d.group(3), delayed))
    return drafts or None
