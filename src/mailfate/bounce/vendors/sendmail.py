"""Sendmail bounces, the modern DSN kind and the old V5/V8 transcript-only kind.

A Sendmail bounce says "Returned mail: ..." (or "Postmaster notify: ...", "Warning: could not send
message for past ..."), lists the failed addresses, then a transcript of the SMTP session::

    ... while talking to mx.example.org.:
    >>> RCPT To:<user@example.org>
    <<< 550 5.1.1 <user@example.org>... User unknown
    550 5.1.1 <user@example.org>... User unknown

The transcript gives the failing command and the remote reply; the ``message/delivery-status``
part (when present) gives the status per recipient. Old Sendmail has only the transcript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.bounce.vendors.postfix import (
    draft_from_block,
    merge_diagnostics,
    read_report,
    settle,
    smtp_command,
)
from mailfate.model.reply import STATUS_PATTERN, find_replycode, normalize_status

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "sendmail"
PRIORITY = 310

_SUBJECTS = (
    "returned mail:",
    "postmaster notify:",
    "warning: could not send message",
    "returned mail ",
)
_MARKERS = (
    "----- transcript of session follows -----",
    "----- the following addresses had permanent fatal errors -----",
    "----- the following addresses had transient non-fatal errors -----",
    "----- unsent message follows -----",
)
_TALKING = re.compile(r"^(?:\.\.\.\s+)?while talking to\s+(\S+?)\.?:?\s*$", re.IGNORECASE)
_SENT = re.compile(r"^>>>\s+(.*)$")
_RECEIVED = re.compile(r"^<<<\s*(.*)$")
_LOCAL = re.compile(
    r"^(?:([245]\d\d)\s+(?:" + STATUS_PATTERN + r"\s+)?)?"
    r"(?:<([^<>\s]+@[^<>\s]+)>[.,]*|([^<>\s]+@[^<>\s]+?)\.\.\.)\s*(.*)$"
)
_BARE = re.compile(r"^([245]\d\d)\s+(?:" + STATUS_PATTERN + r"\s+)?(.*)$")
_HOSTLINE = re.compile(r"^([245]\d\d)\s+(\S+)\s+\((?:smtp|esmtp|tcp)\)\.\.\.\s*(.*)$", re.IGNORECASE)
_ADDR = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_INNER_CODE = re.compile(r"^([245]\d\d)\b")
_FATAL_HEAD = re.compile(r"^\s*-+\s*The following addresses had", re.IGNORECASE)
_REASON = re.compile(r"^\s*\(reason:\s*(.*?)\)?\s*$", re.IGNORECASE)
_SECTION = re.compile(r"^\s*-{3,}\s*\S")


@dataclass(slots=True)
class _Reply:
    command: str
    remote: str
    text: str
    block: int


@dataclass(slots=True)
class _Transcript:
    by_addr: dict[str, _Reply] = field(default_factory=dict)
    unaddressed: list[_Reply] = field(default_factory=list)
    local: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    hostlines: list[tuple[str, str, str]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    bare: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _section(text: str, start: str, stops: tuple[str, ...]) -> list[str]:
    low = text.lower()
    at = low.find(start)
    if at < 0:
        return []
    body = text[at + len(start) :]
    lines: list[str] = []
    for line in body.split("\n")[1:]:
        s = line.strip().lower()
        if any(s.startswith(stop) for stop in stops) or s.startswith("content-type:"):
            break
        if line.startswith("--") and not line.startswith("---"):
            break
        lines.append(line.rstrip())
    return lines


_REPORT_FIELD = re.compile(
    r"^(?:Reporting-MTA|Final-Recipient|Original-Recipient|Received-From-MTA|Arrival-Date|"
    r"Return-Path|Received|Message-Id):",
    re.IGNORECASE,
)


def _until_report(lines: list[str]) -> list[str]:
    """The transcript lines before a pasted delivery report or returned header block."""
    for i, line in enumerate(lines):
        if _REPORT_FIELD.match(line):
            return lines[:i]
    return lines


def _read_transcript(text: str) -> _Transcript:
    out = _Transcript()
    lines = _section(
        text,
        "----- transcript of session follows -----",
        ("----- unsent message follows", "----- original message follows", "-----"),
    )
    lines = _until_report(lines)
    remote, command, rcpt, block = "", "", "", 0
    last: _Reply | None = None
    continued = False
    for raw in lines:
        line = raw.strip()
        if not line:
            last = None
            continue
        m = _TALKING.match(line)
        if m:
            remote, command, rcpt, last = m.group(1).rstrip(".:"), "", "", None
            block += 1
            continue
        m = _SENT.match(line)
        if m:
            command = smtp_command(m.group(1))
            out.commands.append(command)
            addr = _ADDR.search(m.group(1)) if command == "RCPT" else None
            rcpt = addr.group(1).lower() if addr else ""
            last = None
            continue
        m = _RECEIVED.match(line)
        if m:
            reply = m.group(1).strip()
            if last is not None and continued and reply[:3] == last.text[:3]:
                last.text += " " + reply
                continued = reply[3:4] == "-"
                continue
            continued = reply[3:4] == "-"
            addr = _ADDR.search(reply) if command != "MAIL" else None
            target = addr.group(1).lower() if addr else rcpt
            # a reply before any command in this conversation is the greeting
            last = _Reply(command or ("CONN" if remote else ""), remote, reply, block)
            if target and target not in out.by_addr:
                out.by_addr[target] = last
            elif not target:
                out.unaddressed.append(last)
            continue
        last = None
        m = _LOCAL.match(line)
        if m:
            mailbox = (m.group(2) or m.group(3)).lower()
            if mailbox not in out.local:
                out.local[mailbox] = (m.group(1) or "", m.group(4).lstrip(". ").strip(), block)
            continue
        m = _HOSTLINE.match(line)
        if m:
            out.hostlines.append((m.group(1), m.group(2), m.group(3).strip()))
            continue
        if _BARE.match(line):
            out.bare.append(line)
        else:
            out.notes.append(line)
    return out


def _fatal_list(text: str) -> dict[str, str]:
    """Address -> "(reason: ...)" text of the "following addresses had ... errors" lists."""
    out: dict[str, str] = {}
    current = ""
    inside = False
    for line in text.split("\n"):
        if _FATAL_HEAD.match(line):
            inside = True
            continue
        if not inside:
            continue
        if _SECTION.match(line) or line.lower().startswith("content-type:"):
            inside = False
            continue
        s = line.strip()
        m = _ADDR.match(s) if s.startswith("<") else None
        if m:
            current = m.group(1).lower()
            out.setdefault(current, "")
            continue
        r = _REASON.match(line)
        if r and current and not out[current]:
            out[current] = r.group(1).strip()
    return out


def _lookup(table: dict[str, _Reply], addr: str) -> _Reply | None:
    if addr in table:
        return table[addr]
    local = addr.split("@", 1)[0]
    for key, value in table.items():
        if key.split("@", 1)[0] == local:
            return value
    return None


def _inner_code(text: str) -> str:
    m = _INNER_CODE.match(text.strip())
    return m.group(1) if m else ""


def _enrich(draft: Draft, tr: _Transcript, fatal: dict[str, str], *, alone: bool) -> None:
    addr = draft.recipient
    reply = _lookup(tr.by_addr, addr)
    local = tr.local.get(addr)
    if reply is None and tr.unaddressed:
        block = local[2] if local is not None else None
        candidates = [r for r in tr.unaddressed if block is None or r.block == block]
        if local is not None and _inner_code(local[1]):
            candidates = []
        if candidates:
            reply = candidates[0]
    texts: list[str] = []
    if reply is not None:
        draft.command = draft.command or reply.command
        draft.remote_mta = draft.remote_mta or reply.remote
        texts.append(reply.text)
        if not draft.replycode:
            draft.replycode = find_replycode(reply.text)
    reason = fatal.get(addr, "")
    if reason:
        texts.append(reason)
    if local is not None and local[1] and reply is None:
        texts.append(local[1])  # Sendmail's own rewording; the remote reply says more
    diag = draft.diagnostic
    for t in texts:
        diag = merge_diagnostics(diag, t)
    draft.diagnostic = diag
    if not draft.replycode and reason:
        draft.replycode = find_replycode(reason)
    if not draft.replycode and local is not None:
        draft.replycode = _inner_code(local[1]) or local[0]
    if not draft.replycode and tr.commands and len(set(tr.commands)) == 1 and reply is None:
        draft.command = draft.command or tr.commands[0]
    if alone and not draft.replycode and tr.bare:
        draft.replycode = find_replycode(tr.bare[0])
        draft.diagnostic = merge_diagnostics(draft.diagnostic, tr.bare[0])
    if alone and tr.notes:  # "mail.local: unknown user: x", "Message could not be delivered for ..."
        draft.diagnostic = merge_diagnostics(draft.diagnostic, " ".join(tr.notes))


def _unsent_to(text: str) -> str:
    low = text.lower()
    at = max(low.find("----- unsent message follows"), low.find("----- original message follows"))
    if at < 0:
        return ""
    m = re.search(r"(?im)^to:\s*(.*)$", text[at : at + 20000])
    if not m:
        return ""
    addr = re.search(r"[^\s<>,;\"]+@[^\s<>,;\"]+", m.group(1))
    return addr.group(0).lower() if addr else ""


def _without_report(mail: Mail, tr: _Transcript, fatal: dict[str, str]) -> list[Draft]:
    order = list(tr.local) or list(fatal)
    action = "delayed" if mail.subject.lower().startswith("warning:") else "failed"
    drafts: list[Draft] = []
    for addr in order:
        draft = Draft(recipient=addr, action=action)
        _enrich(draft, tr, fatal, alone=len(order) == 1)
        local = tr.local.get(addr)
        if local is not None:  # the notice's own line leads; an inner "550 Host unknown" is the reply
            draft.replycode = _inner_code(local[1]) or local[0] or draft.replycode
        drafts.append(draft)
    if not drafts and tr.hostlines:
        code, host, text = tr.hostlines[0]
        rcpt = _unsent_to(mail.text)
        draft = Draft(recipient=rcpt, action="failed", diagnostic=text, remote_mta=host)
        draft.replycode = _inner_code(text) or code
        drafts.append(draft)
    for d in drafts:
        if d.replycode and not d.status:
            d.status = normalize_status(d.diagnostic[:60])
    return drafts


def _is_sendmail(mail: Mail) -> bool:
    subject = mail.subject.lower()
    sender = mail.sender
    if not (
        subject.startswith(_SUBJECTS)
        or subject.endswith("see transcript for details")
        or "mail delivery subsystem" in sender
    ):
        return False
    head = mail.text[:20000].lower()
    return any(m in head for m in _MARKERS)


def parse(mail: Mail) -> list[Draft] | None:
    """Drafts for a Sendmail bounce, or None when the mail is not one."""
    if not _is_sendmail(mail):
        return None
    text = mail.text
    tr = _read_transcript(text)
    fatal = _fatal_list(text)
    report = read_report(mail, scan_text=True)
    if report is None or not report[1]:
        return _without_report(mail, tr, fatal) or None
    head, blocks = report
    drafts: list[Draft] = []
    listed = list(fatal)
    for i, block in enumerate(blocks):
        draft = draft_from_block(block, head)
        if draft.recipient.startswith("@") and i < len(listed):
            draft.recipient = listed[i]  # a route address in the report; the notice names the mailbox
        _enrich(draft, tr, fatal, alone=len(blocks) == 1)
        remote_code = normalize_status(draft.diagnostic[:40]) if draft.replycode else ""
        if remote_code and remote_code[0] == draft.status[:1] and not remote_code.endswith(".0.0"):
            draft.status = remote_code  # the remote server's own code, not Sendmail's mapping
        settle(draft)
        drafts.append(draft)
    return drafts or None
