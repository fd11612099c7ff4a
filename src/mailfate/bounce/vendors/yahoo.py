"""Yahoo! Mail's "Failure Notice" (also Yahoo! JAPAN's).

    Sorry, we were unable to deliver your message to the following address.

    <kijitora@example.org>:
    Remote host said: 550 5.1.1 <kijitora@example.org>... User Unknown [RCPT_TO]

    --- Below this line is a copy of the message.

The bracketed tag names the SMTP command that failed; older notices write "550: ..." instead.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._provider_common import text_before

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "yahoo"
PRIORITY = 250

_START = "Sorry, we were unable to deliver your message to the following address"
_END = "--- Below this line is a copy of the message."
_RECIPIENT = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:\s*$")
_TAG = re.compile(r"\[(RCPT_TO|MAIL_FROM|DATA|CONNECT|HELO|EHLO|AUTH|STARTTLS)\]")
_COMMANDS = {
    "RCPT_TO": "RCPT",
    "MAIL_FROM": "MAIL",
    "DATA": "DATA",
    "CONNECT": "CONN",
    "HELO": "HELO",
    "EHLO": "EHLO",
    "AUTH": "AUTH",
    "STARTTLS": "STARTTLS",
}
_LEADING_CODE = re.compile(r"^([245]\d\d):?\s+")
_REMOTE_SAID = re.compile(r"^Remote host said:\s*", re.IGNORECASE)


def _draft(recipient: str, lines: list[str]) -> Draft:
    text = _REMOTE_SAID.sub("", " ".join(lines)).strip()
    draft = Draft(recipient=recipient, action="failed", diagnostic_type="SMTP")
    tag = _TAG.search(text)
    if tag:
        draft.command = _COMMANDS[tag.group(1)]
        text = (text[: tag.start()] + text[tag.end() :]).strip()
    code = _LEADING_CODE.match(text)
    if code:
        draft.replycode = code.group(1)
        text = f"{code.group(1)} {text[code.end() :]}"
    draft.diagnostic = text
    if not draft.command and draft.replycode and recipient.lower() in text.lower():
        # Older notices drop the tag; a reply that names the recipient answered its RCPT TO.
        draft.command = "RCPT"
    return draft


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per address in the notice, or None when the mail is not a Yahoo! notice."""
    if not mail.subject.lower().startswith("failure notice"):
        return None
    body = mail.text
    start = body.find(_START)
    if start < 0:
        return None
    body = text_before(body[start:], _END)
    drafts: list[Draft] = []
    recipient = ""
    lines: list[str] = []
    for line in body.split("\n")[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        m = _RECIPIENT.match(stripped)
        if m:
            if recipient:
                drafts.append(_draft(recipient, lines))
            recipient, lines = m.group(1), []
        elif recipient:
            lines.append(stripped)
    if recipient:
        drafts.append(_draft(recipient, lines))
    return drafts or None
