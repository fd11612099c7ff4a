"""Last resort for bounces of unknown MTAs: an address next to an error, in a mail that is a bounce.

Runs only when the mail clearly is a bounce (a MAILER-DAEMON or postmaster sender, or a subject
such as "Undelivered Mail", "Returned mail", "failure notice") and no other parser took it. Reads
the explanation before the returned message and keeps the lines that name an address together
with an error ("550 ...", "unknown host", "mailbox is full") or that introduce the failed
recipients ("Did not reach the following recipient: ..."). A notice that only warns of a delay
gives drafts with action ``delayed``; a reply or a mailing-list post quoting a bounce is ignored.
"""

from __future__ import annotations

import email.utils
import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers._notice import command_of, is_warning
from mailfate.bounce.record import Draft

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "heuristic"
PRIORITY = 900

_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system|service)|mdaemon", re.I)
_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|delivery status notification|failure notice"
    r"|mail failed|delivery fail|non[- ]?delivery|mail delivery failed|could not be delivered"
    r"|delivery problem|returning to sender"
    # the same notice in other languages (de, fr, es, it, nl, sv, pt)
    r"|unzustellbar|nicht zugestellt|non remis|non distribu|no se puede entregar|no se pudo entregar"
    r"|non recapitabile|onbestelbaar|olevererbart|n\u00e3o \u00e9 poss\u00edvel entregar",
    re.I,
)
_ADDRESS = re.compile(
    r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)>?"
)
_ERROR_WORDS = re.compile(
    r"(?<![\d.])[45]\d\d(?![\d.])|unknown|full|quota|not found|rejected|denied|unavailable|does not exist"
    r"|doesn't exist|invalid|no such|refused|failed|failure|error|disabled|suspended|blocked|timed out",
    re.I,
)
_INTRODUCTION = re.compile(
    r"following recipient|failed recipient|failed address|could not be delivered to|undeliverable to"
    r"|delivery to the following|not reach the following|permanent fatal errors|delivery has failed to",
    re.I,
)
_ORIGINAL_START = re.compile(
    r"^(?:received|return-path|message-id|x-[\w-]+|content-type: message/rfc822)\s*:"
    r"|^[-=|_ ]*(?:original message|message text follows|returned message|headers? of (?:the )?original)",
    re.I,
)
_REPLY_START = re.compile(r"^\s*[45]\d\d[\s-]")
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|fwd?|aw|sv|tr|rv|wg|antw)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>(?!>>)")
_MAX_LINES = 300


def _is_bounce(mail: Mail) -> bool:
    if _SENDER.search(mail.sender):
        return True
    # a reply or a mailing-list post that quotes a bounce is not one
    if _REPLY_SUBJECT.match(mail.subject) or mail.header("List-Id") or mail.header("List-Post"):
        return False
    if mail.header("In-Reply-To") and not mail.header("Auto-Submitted"):
        return False
    return bool(_SUBJECT.search(mail.subject))


def _explanation(mail: Mail) -> list[str]:
    """Lines of the human-readable part, up to the start of the returned message."""
    text = ""
    for p in mail.parts:
        if p.content_type == "text/plain":
            text = p.text
            break
    out: list[str] = []
    for line in text.replace("\r", "").split("\n")[:_MAX_LINES]:
        if _ORIGINAL_START.match(line.strip()):
            break
        out.append(line)
    return out


def _own_addresses(mail: Mail) -> set[str]:
    values = [mail.header("From"), mail.header("To"), mail.header("Reply-To"), mail.header("Return-Path")]
    return {a.lower() for _, a in email.utils.getaddresses(values) if "@" in a}


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per failed address found next to an error; None when nothing convincing is found."""
    if not _is_bounce(mail):
        return None
    if mail.part("message/delivery-status", "message/global-delivery-status", "message/feedback-report"):
        return None
    own = _own_addresses(mail)
    drafts: list[Draft] = []
    seen: set[str] = set()
    lines = _explanation(mail)
    action = "delayed" if is_warning("\n".join(lines), mail.subject) else ""
    for i, line in enumerate(lines):
        if _QUOTED.match(line):
            continue
        found = [m.group(1) for m in _ADDRESS.finditer(line) if m.group(1).lower() not in own]
        if not found:
            continue
        rest = _ADDRESS.sub(" ", line)
        context = line.strip()
        for follow in lines[i + 1 : i + 4]:
            if not follow.strip() or _ADDRESS.search(follow):
                break
            if follow[:1] not in " \t" and not _REPLY_START.match(follow):
                break
            context = f"{context} {follow.strip()}"
            rest = f"{rest} {follow}"
        if not (_ERROR_WORDS.search(rest) or _INTRODUCTION.search(rest)):
            continue
        for address in found:
            key = address.lower()
            if key in seen:
                continue
            seen.add(key)
            drafts.append(
                Draft(
                    recipient=address,
                    action=action,
                    diagnostic=context,
                    command=command_of(context),
                    timestamp=mail.date,
                )
            )
    return drafts or None
