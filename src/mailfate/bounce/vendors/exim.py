"""Exim bounces and delay warnings ("Mail delivery failed", "Warning: message ... delayed").

Exim lists each failed address indented by two spaces, with the details indented by four::

      user@example.org
        host mx.example.org [192.0.2.1]
        SMTP error from remote mail server after RCPT TO:<user@example.org>:
        550 5.1.1 User unknown

The "after ..." clause names the SMTP command. Newer Exim adds a ``message/delivery-status`` part,
read here as well; pipe and file deliveries ("pipe to |...", "save to ...") name the address that
generated them.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers._notice import command_of
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors.postfix import (
    draft_from_block,
    merge_diagnostics,
    read_report,
    settle,
    smtp_command,
)
from mailfate.model.reply import find_replycode, normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "exim"
PRIORITY = 320

_SUBJECT_HINTS = (
    "mail delivery failed",
    "mail failure",
    "delivery status notification",
    "message frozen",
    "error(s) in forwarding or filtering",
)
_BODY_HINTS = (
    "this message was created automatically by mail delivery software",
    "this message was created automatically by the smtp relay",
    "a message that you sent could not be delivered to",
    "a message that you sent has not yet been delivered",
    "a message that you sent contained one or more recipient addresses",
    "a message sent by",
    "a message that you sent was rejected by the local scan",
    "has been frozen",
    "was frozen on arrival",
    "router encountered the following error(s)",
)
_LIST_HEADS = re.compile(
    r"(?:address\(es\) failed:|addresses failed:|has not yet been delivered (?:is|are):"
    r"|incorrectly constructed:|could not be delivered to (?:the following|all of its recipients)\S*:?)\s*$",
    re.IGNORECASE,
)
_END = (
    "------ this is a copy",
    "----- this is a copy",
    "------ the body of the message",
    "no action is required",
)
_SMTP_ERROR = re.compile(
    r"(?:SMTP error from remote (?:mail server|mailer|server)|LMTP error) after (?P<cmd>[A-Za-z ]+?)"
    r"(?::\s*<[^>]*>[^:]{0,200})?:\s*",
    re.IGNORECASE,
)
_HOST = re.compile(r"\bhost\s+(\S+)\s+\[[^\]]{1,64}\](?::\d+)?:?\s*", re.IGNORECASE)
_GENERATED = re.compile(r"\(?(?:ultimately )?generated (?:from|by)\s+<?([^\s<>()]+)>?\)?", re.IGNORECASE)
# Exim message ids: "<E1P1YNN-0003AD-Ga@host>" (and the longer ids of Exim 4.97+).
_EXIM_ID = re.compile(r"<[0-9A-Za-z]{6,8}-[0-9A-Za-z]{6,8}-[0-9A-Za-z]{2,4}@")
_DELIVERY = re.compile(r"^(?:pipe to|save to|file)\s", re.IGNORECASE)


def _is_exim(mail: Mail) -> bool:
    subject = mail.subject.lower()
    if not (
        any(h in subject for h in _SUBJECT_HINTS)
        or (subject.startswith("warning: message") and "delayed" in subject)
        or mail.header("X-Failed-Recipients")
        # a rewritten or translated subject: Exim's own sender name or message id still show
        or "mail delivery system" in mail.sender
        or _EXIM_ID.match(mail.header("Message-ID"))
    ):
        return False
    head = mail.text[:6000].lower()
    return any(h in head for h in _BODY_HINTS)


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """(first line, detail lines) for every address listed after the list heading."""
    out: list[tuple[str, list[str]]] = []
    inside = False
    for line in text.split("\n"):
        low = line.strip().lower()
        if not inside:
            if _LIST_HEADS.search(line.strip()):
                inside = True
            continue
        if low.startswith(_END) or (line.startswith("--") and not line.startswith("---")):
            break
        if not low:
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent == 0:
            if out and low.startswith("the following text was generated"):
                continue
            if out and line.startswith("------"):
                continue
            if out and low.startswith(("[", "<")):
                out[-1][1].append(line.strip())
                continue
            if out:
                break
            continue
        if (
            indent <= 3
            and not low.startswith("host ")
            and not (out and out[-1][1] == [] and low.startswith("("))
        ):
            out.append((line.strip(), []))
        elif out:
            out[-1][1].append(line.strip())
    return out


def _draft(head: str, details: list[str], action: str) -> Draft:
    draft = Draft(action=action)
    first, _, rest = head.partition(" ")
    joined = " ".join(details)
    generated = _GENERATED.search(joined)
    if _DELIVERY.match(head):
        draft.recipient = generated.group(1).lower() if generated else ""
        draft.diagnostic_type = "X-Unix" if head.lower().startswith("pipe") else ""
    elif "@" not in first and generated is not None and "@" in generated.group(1):
        draft.recipient = generated.group(1).lower()  # "an undisclosed address (generated from x@y)"
    else:
        draft.recipient = first.rstrip(":").strip("<>").lower()
        rest = rest.strip()
        if rest.startswith("<") and ":" in rest:  # "user@dom <other@dom>: malformed address: ..."
            rest = rest.split(":", 1)[1]
        joined = f"{rest.strip()} {joined}".strip()
    joined = _GENERATED.sub(" ", joined)
    m = _SMTP_ERROR.search(joined)
    if m:
        words = m.group("cmd").strip().lower()
        if "initial connection" in words or words.startswith("connect"):
            draft.command = "CONN"
        else:
            draft.command = smtp_command(words.replace("pipelined", "").strip())
        joined = joined[: m.start()] + " " + joined[m.end() :]
    else:
        # "SMTP timeout after end of data", "closed connection in response to RCPT TO", ...
        draft.command = command_of(joined)
    h = _HOST.search(joined)
    if h:
        draft.remote_mta = h.group(1)
        joined = joined[: h.start()] + " " + joined[h.end() :]
    joined = re.sub(r"(?i)\bdelay reason:\s*", "", joined)
    text = " ".join(joined.split())
    draft.diagnostic = text
    draft.replycode = find_replycode(text)
    if draft.replycode:
        draft.diagnostic_type = draft.diagnostic_type or "SMTP"
        draft.status = normalize_status(text[:40])
    return draft


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for an Exim bounce or delay warning, or None when the mail is not one."""
    if not _is_exim(mail):
        return None
    part = mail.part("text/plain")
    text = part.text if part is not None and mail.content_type.startswith("multipart/") else mail.text
    subject = mail.subject.lower()
    delayed = subject.startswith("warning:") or "has not yet been delivered" in text[:3000].lower()
    action = "delayed" if delayed else "failed"
    drafts = [_draft(head, details, action) for head, details in _entries(text.replace("\r\n", "\n"))]
    report = read_report(mail)
    if report is not None and report[1]:
        head, blocks = report
        by_rcpt = {d.recipient: d for d in drafts}
        merged: list[Draft] = []
        for i, block in enumerate(blocks):
            rep = draft_from_block(block, head)
            seen = by_rcpt.get(rep.recipient) or (drafts[i] if i < len(drafts) else None)
            if seen is None:
                merged.append(rep)
                continue
            seen.status = seen.status or rep.status
            seen.remote_mta = seen.remote_mta or rep.remote_mta
            seen.reporting_mta = rep.reporting_mta
            seen.diagnostic = merge_diagnostics(seen.diagnostic, rep.diagnostic)
            seen.replycode = seen.replycode or rep.replycode
            seen.action = rep.action or seen.action
            merged.append(seen)
        drafts = merged
    if not drafts:
        failed = mail.header("X-Failed-Recipients")
        drafts = [Draft(recipient=a.strip().lower(), action=action) for a in failed.split(",") if a.strip()]
    for d in drafts:
        settle(d)
    return drafts or None
