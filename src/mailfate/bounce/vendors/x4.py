"""Unidentified MTA "X4": qmail clones whose bounces reword qmail-send's introduction."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import body_before, command_in, readable, reply_draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "x4"
PRIORITY = 345

# Introductions these clones use instead of "Hi. This is the qmail-send program at ...".
_INTROS = (
    "Your mail message to the following address",
    "Unable to deliver message to the following address",
    "unable to deliver your message to the following addresses",
    "Unfortunately, your mail was not delivered to the following address",
    "Your message to the following addresses",
    "This is the machine generated message from mail service",
    "This is the mail delivery agent at",
    "Su mensaje no pudo ser entregado",
)
_RECIPIENT = re.compile(r"^<([^>\s]+@[^>\s]+)>:\s*$")
_STOP = ("--- Below this line is a copy of the message.", "Original message follows.")
_QMAIL_STAGE = (
    (" does not like recipient.", "RCPT"),
    (" but sender was rejected.", "MAIL"),
    (" but my name was rejected.", "HELO"),
    (" failed on DATA command", "DATA"),
    (" failed after I sent the message", "DATA"),
)


def _is_clone(mail: Mail) -> bool:
    if mail.subject.startswith(("failure notice", "Permanent Delivery Failure")):
        return True
    return any(
        "(qmail " in r and ("invoked for bounce" in r or "invoked from network" in r)
        for r in mail.headers("Received")
    )


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an X4 bounce; None for other mail (standard qmail included)."""
    if not _is_clone(mail):
        return None
    body = readable(mail)
    head = body[:3000]
    if "This is the qmail-send program" in head or not any(intro in head for intro in _INTROS):
        return None
    drafts: list[Draft] = []
    texts: list[list[str]] = []
    reading = False
    for raw in body_before(body, _STOP):
        line = raw.strip()
        if not reading:
            reading = any(intro in line for intro in _INTROS)
            continue
        m = _RECIPIENT.match(line)
        if m:
            drafts.append(Draft(recipient=m.group(1)))
            texts.append([])
        elif drafts and line:
            texts[-1].append(line)
    out: list[Draft] = []
    for draft, lines in zip(drafts, texts, strict=True):
        text = " ".join(lines)
        command = next((cmd for phrase, cmd in _QMAIL_STAGE if phrase in text), "")
        if not command and "Remote host said:" in text:
            command = command_in(text.split("Remote host said:", 1)[1][:40])
        out.append(reply_draft(draft.recipient, text, command=command))
    return out or None
