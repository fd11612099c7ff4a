"""qmail bounces (and netqmail, notqmail, indimail, vpopmail): "failure notice" in QSBMF.

The qmail-send bounce format (QSBMF) lists each address as ``<user@example.org>:`` followed by
qmail's own sentence about the attempt, the remote reply, and often an enhanced code in the form
``(#5.1.1)``::

    <user@example.org>:
    192.0.2.1 does not like recipient.
    Remote host said: 550 5.1.1 <user@example.org>... User unknown
    Giving up on 192.0.2.1.

qmail's sentence names the SMTP stage that failed.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers._notice import command_of
from mailfate.bounce.record import Draft
from mailfate.model.reply import STATUS_PATTERN, find_replycode, normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "qmail"
PRIORITY = 330

_BODY_HINTS = (
    "this is the qmail-send program",
    "hi. this is the qmail",
    "i'm afraid i wasn't able to deliver your message to the following addresses",
    "i was not able to deliver your message to the following addresses",
    "unable to deliver your message to the following addresses",
    "sorry, we were unable to deliver your message to the following address",
)
_START = re.compile(r"^<([^<>\s]*@[^<>\s]*|[^<>\s]+)>:\s*(.*)$")
_END = (
    "--- below this line is a copy",
    "--- below the next line is a copy",
    "--- enclosed is a copy",
    "--- enclosed are the original headers",
    "--- mensaje original adjunto",
    "original message follows.",
    "content-type: message/rfc822",
)
_QMAIL_CODE = re.compile(r"\(#(" + STATUS_PATTERN + r")\)")
_REMOTE = re.compile(r"remote host said:\s*", re.IGNORECASE)
_GIVING_UP = re.compile(r"giving up on\s+([^\s]+?)\.?(?:\s|$)", re.IGNORECASE)
_CONNECTED = re.compile(
    r"connected to\s+(\S+)\s+but\s+(?:sender was rejected|greeting failed|my name was rejected)",
    re.IGNORECASE,
)
_STAGES = (
    ("does not like recipient", "RCPT"),
    ("failed after i sent the message", "DATA"),
    ("failed on data command", "DATA"),
    ("didn't like our data", "DATA"),
    ("sender was rejected", "MAIL"),
    ("does not like sender", "MAIL"),
    ("greeting failed", "CONN"),
    ("my name was rejected", "HELO"),
    ("wasn't able to establish an smtp connection", "CONN"),
)
_NOISE = re.compile(
    r"(?:I'm\s+not\s+going\s+to\s+try\s+again;\s+this\s+message\s+has\s+been\s+in\s+the\s+queue\s+too\s+long\.|"
    r"Giving\s+up\s+on\s+\S+|From:\s*<[^>]*>\s*RCPT:\s*<[^>]*>)",
    re.IGNORECASE,
)
_TOO_LONG = re.compile(r"this\s+message\s+has\s+been\s+in\s+the\s+queue\s+too\s+long", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"(?m)^([245]\d\d)[ -](" + STATUS_PATTERN + r")?\s*")


def _is_qmail(mail: Mail) -> bool:
    subject = mail.subject.lower()
    if not (
        subject.startswith(("failure notice", "delivery failure", "returned mail"))
        or mail.sender.startswith("mailer-daemon")
        or any("(qmail " in r for r in mail.headers("Received")[:3])
    ):
        return False
    head = mail.text[:6000].lower()
    return any(h in head for h in _BODY_HINTS)


def _entries(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    started = False
    for line in text.split("\n"):
        s = line.strip()
        low = s.lower()
        if low.startswith(_END):
            break
        m = _START.match(s)
        if m:
            out.append((m.group(1).lower(), [m.group(2)] if m.group(2) else []))
            started = True
            continue
        if started and out and s:
            out[-1][1].append(s)
    return out


def _draft(rcpt: str, lines: list[str]) -> Draft:
    draft = Draft(recipient=rcpt, action="failed")
    joined = "\n".join(lines)
    low = joined.lower()
    for phrase, command in _STAGES:
        if phrase in low:
            draft.command = command
            break
    else:
        # no qmail stage sentence: the remote reply may still say "after RCPT TO" / "in reply to DATA"
        draft.command = command_of(joined)
    m = _GIVING_UP.search(joined) or _CONNECTED.search(joined)
    if m:
        draft.remote_mta = m.group(1).rstrip(".")
    said = _REMOTE.search(joined)
    if said:
        reply = joined[said.end() :]
        before = joined[: said.start()]
        reply_lines = [ln for ln in reply.split("\n") if not _NOISE.fullmatch(ln.strip())]
        reply = "\n".join(reply_lines)
        draft.replycode = find_replycode(reply)
        # multi-line replies repeat "550-5.7.26"; keep the code once
        body = _REPLY_PREFIX.sub("", reply)
        prefix = reply[: len(reply) - len(reply.lstrip())]
        first = _REPLY_PREFIX.match(reply.lstrip())
        lead = first.group(0).strip() if first else ""
        draft.diagnostic = " ".join(f"{lead} {body} {prefix}".split())
        draft.diagnostic_type = "SMTP"
        context = " ".join(_NOISE.sub(" ", before).split())
        if context:
            draft.extra["qmail_stage"] = context
    else:
        draft.diagnostic = " ".join(_NOISE.sub(" ", joined).split())
    if _TOO_LONG.search(joined):
        draft.diagnostic = f"{draft.diagnostic} (in the queue too long)".strip()
        draft.action = "failed"
    code = _QMAIL_CODE.search(joined)
    draft.status = normalize_status(draft.diagnostic[:40]) if draft.replycode else ""
    if code and not draft.status:
        draft.status = code.group(1)
    if draft.status and draft.replycode and draft.status[0] != draft.replycode[0]:
        draft.status = ""
    return draft


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a qmail bounce, or None when the mail is not one."""
    if not _is_qmail(mail):
        return None
    part = mail.part("text/plain")
    text = part.text if part is not None and mail.content_type.startswith("multipart/") else mail.text
    drafts = [_draft(rcpt, lines) for rcpt, lines in _entries(text.replace("\r\n", "\n"))]
    return drafts or None
