"""MX Logic (McAfee SaaS): Exim-like "The following address failed:" bounces from mxl_mta."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import body_before, find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "mxlogic"
PRIORITY = 300

_RECIPIENT = re.compile(r"^\s+<([^>]+@[^>]+)>:?\s*(.*)$")
_STOP = ("Included is a copy of the message header:", "------ This is a copy of the message")


def _is_mxlogic(mail: Mail) -> bool:
    if "mxlogic.net" in mail.sender or mail.header("X-MXL-NoteHash") or mail.header("X-MX-Bounce"):
        return True
    return mail.header("Message-ID").startswith("<mxl~")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an MX Logic bounce; None for other mail."""
    if not _is_mxlogic(mail) or "mailer-daemon" not in mail.sender:
        return None
    drafts: list[Draft] = []
    texts: list[list[str]] = []
    reading = False
    for line in body_before(readable(mail), _STOP):
        if not reading:
            reading = "address failed:" in line or "addresses failed:" in line
            continue
        m = _RECIPIENT.match(line)
        if m:
            drafts.append(reply_draft(find_address(m.group(1)), ""))
            texts.append([m.group(2)])
        elif drafts and line.strip():
            texts[-1].append(line.strip())
    for draft, text in zip(drafts, texts, strict=True):
        built = reply_draft(draft.recipient, " ".join(text))
        draft.diagnostic, draft.status, draft.replycode = built.diagnostic, built.status, built.replycode
    return drafts or None
