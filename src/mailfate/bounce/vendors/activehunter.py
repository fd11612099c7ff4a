"""Active!hunter (TransWARE): sendmail-like bounces, ">>> address" and a session transcript."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import find_address, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "activehunter"
PRIORITY = 300

_RECIPIENT = re.compile(r"^>>>\s+(\S+@\S+)")
_REPLY = re.compile(r"^[245]\d\d[ -]")


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an Active!hunter bounce; None for other mail."""
    if not (
        mail.header("X-AHMailID")
        or "Active!Hunter" in mail.header("Content-Type")
        or mail.subject.startswith("FAILURE NOTICE :")
    ):
        return None
    body = readable(mail)
    if "----- The following addresses had permanent fatal errors -----" not in body:
        return None
    recipients: list[str] = []
    reply: list[str] = []
    transcript = False
    for raw in body.split("\n"):
        line = raw.strip()
        m = _RECIPIENT.match(line)
        if m:
            recipients.append(find_address(m.group(1)))
            continue
        if "----- Transcript of session follows -----" in line:
            transcript = True
            continue
        if transcript and line[:1].isalnum():
            reply.append(line)
    coded = [ln for ln in reply if _REPLY.match(ln)]
    text = " ".join(coded or reply[:1])
    return [reply_draft(r, text) for r in recipients] or None
