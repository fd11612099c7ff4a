"""Pieces the mailbox-provider parsers share: RFC 3464 field blocks and address cleanup.

Provider bounces are often DSNs with a twist (fields inside a text/plain part, a wrapped reply in
the Diagnostic-Code, no blank line between blocks). :func:`dsn_drafts` reads the fields wherever
they are; the vendor modules then fix what their provider does differently.
"""

from __future__ import annotations

import re

from mailfate.bounce.mail import Mail, parse_date
from mailfate.bounce.record import Draft
from mailfate.model.reasons import Reason
from mailfate.model.reply import normalize_status

__all__ = [
    "ADDRESS",
    "dsn_drafts",
    "dsn_text",
    "exim_stated_reason",
    "exim_style_drafts",
    "first_address",
    "host_of",
    "split_diagnostic",
    "text_before",
]

ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,200}@[A-Za-z0-9.\-\[\]:]{1,253}[A-Za-z0-9\]]")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9\-]{1,40}):[ \t]*(.*)$")
_RECIPIENT_KEYS = ("final-recipient", "original-recipient", "x-actual-recipient")
_HOST = re.compile(r"(?:dns|smtp|x-[a-z0-9\-]+)\s*;\s*\[?([A-Za-z0-9.\-:]+)\]?", re.IGNORECASE)
_DIAG_TYPE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9\-]{0,40})\s*;\s*(.*)$", re.DOTALL)
_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")


def first_address(text: str) -> str:
    """The first email address in a text, without brackets; "" when none."""
    m = ADDRESS.search(text)
    return m.group(0).strip(".") if m else ""


def host_of(value: str) -> str:
    """The host of a Remote-MTA / Reporting-MTA value ("dns; mx.example.org" -> "mx.example.org")."""
    m = _HOST.search(value)
    if m:
        return m.group(1).strip(".").lower()
    return value.rsplit(";", maxsplit=1)[-1].strip().strip("[]").lower()


def text_before(text: str, *markers: str) -> str:
    """The text up to the first of the markers (the start of the returned message)."""
    end = len(text)
    for marker in markers:
        i = text.find(marker)
        if 0 <= i < end:
            end = i
    return text[:end]


def dsn_text(mail: Mail) -> str:
    """The text of the message/delivery-status part; "" when the mail has none."""
    part = mail.part(*_DSN_TYPES)
    return part.text if part is not None else ""


def split_diagnostic(value: str) -> tuple[str, str]:
    """("smtp", "550 ...") from a Diagnostic-Code value "smtp; 550 ..."; ("", value) without a type."""
    m = _DIAG_TYPE.match(value)
    if m is None:
        return "", value.strip()
    return m.group(1), m.group(2).strip()


def _blocks(text: str) -> list[list[tuple[str, str]]]:
    """Field blocks separated by blank lines, continuation lines unfolded."""
    blocks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        if line[0] in " \t" and current:
            key, value = current[-1]
            current[-1] = (key, f"{value} {line.strip()}")
            continue
        m = _FIELD.match(line.rstrip())
        if m:
            current.append((m.group(1).lower(), m.group(2).strip()))
    if current:
        blocks.append(current)
    return blocks


def dsn_drafts(text: str) -> list[Draft]:
    """One draft per recipient block of RFC 3464 fields found in ``text``, in order."""
    message: dict[str, str] = {}
    groups: list[dict[str, str]] = []
    for block in _blocks(text):
        if not any(k in _RECIPIENT_KEYS for k, _ in block):
            for k, v in block:
                message.setdefault(k, v)
            continue
        group: dict[str, str] = {}
        for k, v in block:
            if k in group and k in _RECIPIENT_KEYS:
                groups.append(group)
                group = {}
            if k in ("reporting-mta", "arrival-date", "received-from-mta"):
                message.setdefault(k, v)
            group.setdefault(k, v)
        groups.append(group)
    out: list[Draft] = []
    for g in groups:
        rcpt = g.get("final-recipient") or g.get("original-recipient") or g.get("x-actual-recipient", "")
        address = first_address(rcpt)
        if not address:
            continue
        dtype, diag = split_diagnostic(g.get("diagnostic-code", ""))
        draft = Draft(
            recipient=address,
            action=g.get("action", "").split()[0].lower() if g.get("action", "").strip() else "",
            status=normalize_status(g.get("status", "")),
            diagnostic=diag,
            diagnostic_type=dtype,
            remote_mta=host_of(g["remote-mta"]) if g.get("remote-mta") else "",
            reporting_mta=host_of(message.get("reporting-mta", "")) if message.get("reporting-mta") else "",
            timestamp=parse_date(g.get("last-attempt-date", "")),
        )
        if g.get("original-recipient"):
            draft.original_recipient = first_address(g["original-recipient"])
        out.append(draft)
    return out


# -- Exim-style notices (Mail.Ru, GMX, 1&1) ------------------------------------------------------
_FAILED_MARKER = re.compile(r"following\s+address(?:\(es\)|es)?\s+failed:?", re.IGNORECASE)
_EXIM_ENDS = (
    "------ This is a copy of the message",
    "--- The header of the original message",
    "------ The body of the message is",
    "--- Below this line is a copy",
)
_ADDRESS_LINE = re.compile(r"^[\"<]?([^\s\"<>@]{1,200}@[A-Za-z0-9.\-\[\]]{1,253})[\">]?:?$")
_SMTP_ERROR = re.compile(
    r"SMTP error from remote (?:mail )?server (?:after|for|in reply to) ([A-Za-z ]{2,20}?)"
    r"(?:[: ]*<[^>]*>)?(?: command)?[:,]",
    re.IGNORECASE,
)
_HOST_SAID = re.compile(
    r"host:? ([A-Za-z0-9][A-Za-z0-9.\-]{0,250})(?: [\[(][0-9a-fA-F.:]+[\])])?:?\s*(?:reason:\s*)?"
)
_EXIM_COMMANDS = (
    ("rcpt", "RCPT"),
    ("mail", "MAIL"),
    ("end of data", "DATA"),
    ("text", "DATA"),
    ("data", "DATA"),
    ("helo", "HELO"),
    ("ehlo", "EHLO"),
    ("initial connection", "CONN"),
)
_SKIP_LINES = ("for the following reason:", "reason:")
_CREATED_MARKER = re.compile(r"created automatically by mail delivery (?:software|system)\.?", re.IGNORECASE)


def exim_style_drafts(text: str) -> list[Draft]:
    """Drafts from an Exim-style "The following address(es) failed:" notice, in order."""
    marker = _FAILED_MARKER.search(text) or _CREATED_MARKER.search(text)
    if marker is None:
        return []
    body = text_before(text[marker.end() :], *_EXIM_ENDS)
    groups: list[tuple[str, list[str]]] = []
    for line in body.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.lower() in _SKIP_LINES:
            continue
        m = _ADDRESS_LINE.match(stripped)
        if m:
            groups.append((m.group(1), []))
        elif groups:
            groups[-1][1].append(stripped)
    return [_exim_draft(rcpt, " ".join(lines)) for rcpt, lines in groups]


def _exim_draft(recipient: str, text: str) -> Draft:
    draft = Draft(recipient=recipient, action="failed")
    m = _SMTP_ERROR.search(text)
    if m:
        phrase = m.group(1).lower().strip()
        for key, command in _EXIM_COMMANDS:
            if phrase.startswith(key):
                draft.command = command
                break
        draft.diagnostic_type = "SMTP"
        text = text[m.end() :].strip()
        host = _HOST_SAID.match(text)
        if host:
            draft.remote_mta = host.group(1).strip(".").lower()
            text = text[host.end() :]
    draft.diagnostic = text.strip()
    return draft


# Exim's own wording for failures it decided itself (no remote reply), as these providers pass it on.
_EXIM_OWN: tuple[tuple[str, Reason], ...] = (
    ("unrouteable address", Reason.HOSTUNKNOWN),
    ("all relevant mx records point to non-existent hosts", Reason.HOSTUNKNOWN),
    ("an mx or srv record indicated no smtp service", Reason.NOTACCEPT),
    ("retry timeout exceeded", Reason.EXPIRED),
    ("retry time not reached for any host", Reason.EXPIRED),
)
_USER_UNKNOWN = re.compile(
    r"user unknown|unknown user|no such user|user not found|does not exist", re.IGNORECASE
)


def exim_stated_reason(draft: Draft) -> None:
    """Set ``draft.reason`` where the text is Exim's own verdict or a recipient refused after DATA.

    A recipient refused only after the message data was sent is reported as ``filtered``, as
    Sisimai does: the receiving side accepted the address at RCPT and rejected the content.
    """
    if draft.replycode or draft.command:
        if draft.command == "DATA" and _USER_UNKNOWN.search(draft.diagnostic):
            draft.reason = Reason.FILTERED
        return
    lowered = draft.diagnostic.lower()
    for phrase, reason in _EXIM_OWN:
        if phrase in lowered:
            draft.reason = reason
            return
