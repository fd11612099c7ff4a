"""au one net (KDDI, dion.ne.jp): "Could not be delivered to: <address>" bounces."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import readable, reply_draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "kddi"
PRIORITY = 300

_RECIPIENT = re.compile(r"Could not be delivered to:\s*<([^>\s]+@[^>\s]+)>")
_MESSAGES = (
    ("As their mailbox is full", Reason.MAILBOXFULL),
    ("Due to the following SMTP relay error", Reason.NORELAYING),
    ("As the remote domain doesnt exist", Reason.HOSTUNKNOWN),
    ("As the remote domain doesn't exist", Reason.HOSTUNKNOWN),
)


def _is_kddi(mail: Mail) -> bool:
    sender = mail.sender
    if "no-reply@" not in sender:
        return False
    if ".dion.ne.jp" in sender or "auone-net.jp" in sender or "auone-net.jp" in mail.header("Reply-To"):
        return True
    return any("auone-net.jp" in r or "mx.ezweb.ne.jp" in r for r in mail.headers("Received"))


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an au one net bounce; None for other mail."""
    if not _is_kddi(mail):
        return None
    body = readable(mail)
    drafts: list[Draft] = []
    lines = [ln.strip() for ln in body.split("\n")]
    for i, line in enumerate(lines):
        m = _RECIPIENT.search(line)
        if m is None:
            continue
        following = " ".join(x for x in lines[i + 1 : i + 4] if x and x.isascii())
        draft = reply_draft(m.group(1), following)
        if mail.header("X-SPASIGN").strip() == "NG":
            draft.reason = Reason.FILTERED
        else:
            draft.reason = next((r for phrase, r in _MESSAGES if phrase in following), None)
        drafts.append(draft)
    return drafts or None
