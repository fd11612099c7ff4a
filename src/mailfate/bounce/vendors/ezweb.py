"""au by KDDI, EZweb (ezweb.ne.jp): "Mail System Error - Returned Mail" bounces."""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors._appliance_common import command_in, dsn_report, readable, reply_draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "ezweb"
PRIORITY = 300

_RECIPIENT = re.compile(r"^(?:Recipient:\s*)?<([^>\s]+@[^>\s]+)>:?\s*(.*)$")
_STOP = ("-----------------------------------------", "Received: ", "Content-Type: message/rfc822")
# EZweb's own sentences and the reasons they state.
_MESSAGES = (
    ("The user(s) account is disabled.", Reason.SUSPEND),
    ("The user(s) account is temporarily limited.", Reason.SUSPEND),
    ("The user(s) account is temporarily over quota", Reason.MAILBOXFULL),
    ("Your message was not delivered within ", Reason.EXPIRED),
)


def _is_ezweb(mail: Mail) -> bool:
    signals = 0
    sender = mail.sender
    if "postmaster@ezweb.ne.jp" in sender or "postmaster@au.com" in sender:
        signals += 1
    if mail.subject == "Mail System Error - Returned Mail":
        signals += 1
    if any("(EZweb Mail) with" in r or ".au.com (" in r for r in mail.headers("Received")):
        signals += 1
    mid = mail.header("Message-ID")
    if mid.endswith((".ezweb.ne.jp>", ".au.com>")):
        signals += 1
    return signals >= 2


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts from an EZweb bounce; None for other mail."""
    if not _is_ezweb(mail):
        return None
    body = readable(mail)
    notes: list[str] = []
    drafts: list[Draft] = []
    texts: list[list[str]] = []
    commands: list[str] = []
    for raw in body.split("\n"):
        line = raw.strip()
        if line.startswith(_STOP) and (drafts or notes):
            break
        if not line or not line.isascii():
            continue
        m = _RECIPIENT.match(line)
        if m:
            drafts.append(Draft(recipient=m.group(1), action="failed"))
            texts.append([m.group(2)] if m.group(2) else [])
            commands.append("")
            continue
        if drafts and line.startswith((">>>", "<<<")):
            if line.startswith(">>>"):
                commands[-1] = command_in(line)
            else:
                texts[-1].append(line[3:].strip())
            continue
        notes.append(line)
    note = " ".join(notes)
    dsn = dsn_report(mail)
    stated: Reason | None = None
    if mail.header("X-SPASIGN").strip() == "NG":
        stated = Reason.FILTERED
    else:
        stated = next((r for phrase, r in _MESSAGES if phrase in note), None)
    out: list[Draft] = []
    for draft, text, command in zip(drafts, texts, commands, strict=True):
        fields = dsn.for_recipient(draft.recipient)
        reply = " ".join(text)
        built = reply_draft(
            draft.recipient,
            f"{note} {reply}".strip() if stated is None else reply or note,
            status=fields.get("status", ""),
            command=command or command_in(reply),
        )
        built.reason = stated
        out.append(built)
    return out or None
