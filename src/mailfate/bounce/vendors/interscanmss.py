"""Trend Micro InterScan MSS: "Sent <<< RCPT TO:<address>" / "Received >>> reply" transcripts."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import command_in, find_address, readable, reply_draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "interscanmss"
PRIORITY = 300

# "Sent <<< RCPT TO:<a@b>" / "Received >>> 550 ..." (the words are localized, the arrows are not).
_SENT = re.compile(r"^\S{1,20} <<< (.+)$")
_RECEIVED = re.compile(r"^\S{1,20} >>> (.+)$")
_UNABLE = re.compile(r"^Unable to deliver (?:the )?message to <([^>\s]+@[^>\s]+)>")
_SUBJECTS = ("Mail could not be delivered", "メッセージを配信できません。", "メール配信に失敗しました")


def _is_interscan(mail: Mail) -> bool:
    sender = mail.sender
    if sender.startswith('"interscan') or "interscan mss" in sender:
        return True
    if "InterScan" in mail.header("Content-Type") or mail.subject in _SUBJECTS:
        return True
    # Other (localized or site-configured) subjects from a bounce address: the notice names the product.
    if "postmaster" not in sender and "mailer-daemon" not in sender:
        return False
    head = mail.text[:8000]
    return " InterScan " in head and ("<<< " in head or "Unable to deliver" in head)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an InterScan MSS bounce; None for other mail."""
    if not _is_interscan(mail):
        return None
    drafts: list[Draft] = []
    command = ""
    recipient = ""
    for raw in readable(mail).split("\n"):
        line = raw.strip()
        unable = _UNABLE.match(line)
        if unable:
            draft = reply_draft(unable.group(1), line)
            draft.reason = Reason.USERUNKNOWN
            drafts.append(draft)
            continue
        sent = _SENT.match(line)
        if sent:
            command = command_in(sent.group(1))
            if command == "RCPT":
                recipient = find_address(sent.group(1))
            continue
        got = _RECEIVED.match(line)
        if got and recipient:
            drafts.append(reply_draft(recipient, got.group(1), command=command))
            recipient = ""
    return drafts or None
