"""RFC 3464 / RFC 6533 delivery status notifications, also when the status part was mangled.

Reads every ``message/delivery-status`` and ``message/global-delivery-status`` part; when a
``multipart/report`` or a bounce-looking plain mail lost that part (flattened into text/plain), the
same fields are read from the body text. One draft per recipient, in the order the report lists
them. A success DSN (Action delivered, relayed, expanded) gives results too. A recipient that is not
an internet address ("Final-Recipient: X400; ...", "X-Notes; ...", "unknown; ...", a bare local
part) is replaced by the best internet address available: the Original-Recipient, the
X-Actual-Recipient, the RFC-822 attribute of an X.400 address, or the one address the notice names.
"""

from __future__ import annotations

import re
from datetime import datetime

from mailfate.bounce.mail import Mail, Part, decode_bytes, parse_date
from mailfate.bounce.record import Draft
from mailfate.model.reasons import Reason

__all__ = ["NAME", "PRIORITY", "parse"]

NAME = "rfc3464"
PRIORITY = 500

_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})\s*:\s?(.*)$")
_DSN_LINE = re.compile(
    r"(?im)^\s*(?:final-recipient|original-recipient)\s*:\s*(?:[a-z0-9-]{1,20}\s*;\s*)?<?[^\s<>@;]{1,200}@"
)
_DSN_ACTION = re.compile(r"(?im)^\s*(?:action|status)\s*:\s*\S")
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery|mail administrator|mdaemon", re.I)
_SUCCESS_ACTIONS = ("delivered", "relayed", "expanded", "deliverable")
_MAX_HUMAN_LINES = 400
_MAX_RECIPIENTS = 1000
_STATUS_COMMENT = re.compile(r"\(([^()]{3,300})\)")
_COMMAND = re.compile(
    r"\bin reply to (?:the )?(rcpt to|mail from|end of data|data|helo|ehlo|connect|starttls)\b"
    r"|\b(rcpt to|mail from)\s*:?\s*<",
    re.I,
)
_COMMAND_NAMES = {"RCPT TO": "RCPT", "MAIL FROM": "MAIL", "END OF DATA": "DATA", "CONNECT": "CONN"}
_TRANSCRIPT = re.compile(r"(?i)transcript of (?:the )?session|the error that the other server returned")
_REPLY_LINE = re.compile(r"^\s*[45]\d\d[\s\-]")
_GENERIC_COMMENTS = (
    "permanent failure",
    "temporary failure",
    "persistent transient failure",
    "other or undefined",
    "undefined status",
)
_MESSAGE_FIELDS = frozenset({"reporting-mta", "arrival-date", "x-original-message-id", "received-from-mta"})
_RECIPIENT_FIELDS = frozenset(
    {
        "final-recipient",
        "original-recipient",
        "action",
        "status",
        "remote-mta",
        "diagnostic-code",
        "last-attempt-date",
        "will-retry-until",
        "x-actual-recipient",
    }
)


def _fields(text: str) -> list[tuple[str, str] | None]:
    """Header-like fields with continuation lines joined; None marks a blank line."""
    out: list[tuple[str, str] | None] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append(None)
            continue
        if line[0] in " \t" and out and out[-1] is not None:
            name, value = out[-1]
            out[-1] = (name, f"{value} {line.strip()}")
            continue
        m = _FIELD.match(line.strip())
        if m is None:
            out.append(None)
            continue
        out.append((m.group(1).lower(), m.group(2).strip()))
    return out


def _blocks(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(per-message fields, per-recipient field sets in order)."""
    message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for item in _fields(text):
        if item is None:
            current = None
            continue
        name, value = item
        if name in ("final-recipient", "original-recipient"):
            starts_new = (
                current is None
                or name in current
                or (
                    name == "original-recipient"
                    and "final-recipient" in current
                    and ("status" in current or "diagnostic-code" in current)
                )
            )
            if starts_new or current is None:
                current = {}
                recipients.append(current)
            current.setdefault(name, value)
            continue
        if current is not None and name in _RECIPIENT_FIELDS:
            if name in current and name == "diagnostic-code":
                current[name] = f"{current[name]} {value}"
            else:
                current.setdefault(name, value)
        elif name in _MESSAGE_FIELDS:
            message.setdefault(name, value)
        elif current is None and name in ("action", "status", "diagnostic-code", "remote-mta"):
            # A status block whose recipient field comes later or is missing.
            current = {name: value}
            recipients.append(current)
    return message, [r for r in recipients if _RECIPIENT_KEYS.intersection(r)]


_RECIPIENT_KEYS = frozenset({"final-recipient", "original-recipient", "x-actual-recipient"})
_INTERNET_TYPES = ("", "RFC822", "UTF-8")
_X400_RFC822 = re.compile(r"RFC-?822=([^/;\s]{3,256})", re.IGNORECASE)
_X400_ESCAPES = (
    ("(a)", "@"),
    ("(p)", "%"),
    ("(b)", "!"),
    ("(q)", '"'),
    ("(u)", "_"),
    ("(l)", "("),
    ("(r)", ")"),
)
_INTERNET_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+"
)
_NOT_RECIPIENTS = ("postmaster@", "mailer-daemon@")


def _internet(value: str) -> str:
    """The internet address in a recipient field of any type ("" when none): an rfc822 address,
    the RFC-822= attribute of an X.400 O/R address, or an address inside an X-Notes or unknown value."""
    _, rest = _typed(value)
    x400 = _X400_RFC822.search(rest)
    if x400:
        found = x400.group(1)
        for escaped, char in _X400_ESCAPES:
            found = found.replace(escaped, char).replace(escaped.upper(), char)
        if "@" in found:
            return found
    m = _INTERNET_ADDRESS.search(rest)
    return m.group(0) if m else ""


def _recipient(fields: dict[str, str], text_address: str) -> str:
    """The best address of a recipient block.

    The Final-Recipient when it is an internet address; otherwise (X400, X-Notes, unknown, a bare
    local part, or no Final-Recipient at all) the Original-Recipient, the X-Actual-Recipient, an
    address inside the Final-Recipient value, the one address the notice names, and last the raw
    Final-Recipient value.
    """
    final = fields.get("final-recipient", "")
    kind, address = _typed(final)
    if final and kind in _INTERNET_TYPES and "@" in address:
        return address
    for name in ("original-recipient", "x-actual-recipient"):
        found = _internet(fields.get(name, ""))
        if found:
            return found
    found = _internet(final) or text_address
    if found:
        return found
    return address or _typed(fields.get("original-recipient", ""))[1]


def _text_address(mail: Mail, human: str) -> str:
    """The single address the notice names (for a report whose recipient is not an internet one)."""
    own = {a.lower() for a in _INTERNET_ADDRESS.findall(" ".join(mail.header(h) for h in ("From", "To")))}
    found: list[str] = []
    for m in _INTERNET_ADDRESS.finditer(_lead_text(human)):
        key = m.group(0).lower()
        if key not in own and not key.startswith(_NOT_RECIPIENTS) and key not in found:
            found.append(key)
    return found[0] if len(found) == 1 else ""


def _typed(value: str) -> tuple[str, str]:
    """("SMTP", "550 ...") from "smtp; 550 ..."."""
    if ";" in value:
        kind, rest = value.split(";", 1)
        kind = kind.strip()
        if kind and " " not in kind and len(kind) <= 20:
            return kind.upper(), rest.strip()
    return "", value.strip()


def _human_text(mail: Mail) -> str:
    """The first text/plain part (the human-readable explanation)."""
    for p in mail.parts:
        if p.content_type == "text/plain":
            return p.text
        if p.content_type in _STATUS_TYPES:
            break
    return ""


_SKIP_LEAD = (
    "content-",
    "this is a mime",
    "this is a multi",
    "this is an auto",
    "this multi-part",
    "###",
    "***",
    "--",
)


_LEAD_END = re.compile(
    r"(?i)^(?:reporting-mta|final-recipient|original-recipient|arrival-date|received-from-mta"
    r"|return-path|received|message-id)\s*:"
    r"|^[-=_ ]*(?:original message|below this line is a copy|a copy of the original message)"
)


def _lead_text(human: str) -> str:
    """The human-readable explanation swept into one line (banner and MIME lines left out)."""
    kept: list[str] = []
    for line in human.split("\n", 200)[:200]:
        stripped = line.strip()
        if _LEAD_END.match(stripped):
            break
        if not stripped or stripped.lower().startswith(_SKIP_LEAD):
            continue
        if "--- the follow" in stripped.lower() or "--- transcript" in stripped.lower():
            continue
        kept.append(stripped)
    return " ".join(kept)[:4000]


def _transcript(text: str) -> tuple[str, list[str]]:
    """(error lines of a session transcript, lines starting with a 4xx/5xx reply) of a human part."""
    picked: list[str] = []
    replies: list[str] = []
    in_transcript = False
    done = False
    for line in text.split("\n", _MAX_HUMAN_LINES)[:_MAX_HUMAN_LINES]:
        stripped = line.strip()
        if _TRANSCRIPT.search(stripped):
            in_transcript = not done
            continue
        if in_transcript:
            if not stripped or stripped.startswith("---"):
                if picked:
                    in_transcript, done = False, True
                continue
            if not stripped.startswith((">>>", "<<<")) or _REPLY_LINE.match(stripped[3:]):
                picked.append(stripped.lstrip("<> "))
            continue
        if _REPLY_LINE.match(stripped):
            replies.append(stripped)
    return " ".join(picked)[:2000], replies


def _diagnostic_from_text(transcript: tuple[str, list[str]], address: str) -> str:
    """The transcript, else the reply lines naming the recipient, for a DSN without Diagnostic-Code."""
    if transcript[0]:
        return transcript[0]
    key = address.lower()
    if not key:
        return ""
    return " ".join(line for line in transcript[1] if key in line.lower())[:2000]


def _part_text(part: Part) -> str:
    """The fields of a status part; the stdlib parses message/global-delivery-status as one
    message, so its recipient blocks are the body of that message."""
    text = part.text
    if part.content_type == "message/global-delivery-status":
        inner = part.embedded()
        body = inner.get_payload(decode=True) if inner is not None and not inner.is_multipart() else None
        if isinstance(body, bytes) and body.strip():
            text = f"{text}\n\n{decode_bytes(body, 'utf-8')}"
    return text


def _looks_like_report(mail: Mail) -> bool:
    ctype = mail.content_type
    if ctype == "multipart/report":
        return True
    return bool(_BOUNCE_SENDER.search(mail.sender) or _BOUNCE_SENDER.search(mail.header("Return-Path")))


def _status_texts(mail: Mail) -> list[str]:
    texts = [_part_text(p) for p in mail.parts if p.content_type in _STATUS_TYPES]
    if texts:
        return texts
    if not _looks_like_report(mail):
        return []
    body = "\n".join(p.text for p in mail.parts if p.content_type.startswith("text/plain"))
    if not body and mail.parts and mail.content_type == "multipart/report":
        body = mail.text
    if _DSN_LINE.search(body) and _DSN_ACTION.search(body):
        return [body]
    return []


def _when(fields: dict[str, str], message: dict[str, str]) -> datetime | None:
    return parse_date(fields.get("last-attempt-date", "")) or parse_date(message.get("arrival-date", ""))


def _draft(
    fields: dict[str, str], message: dict[str, str], transcript: tuple[str, list[str]], text_address: str = ""
) -> Draft:
    address = _recipient(fields, text_address)
    _, original = _typed(fields.get("original-recipient", ""))
    action = fields.get("action", "").split()[0].lower() if fields.get("action", "").split() else ""
    status_raw = fields.get("status", "")
    diag_type, diagnostic = _typed(fields.get("diagnostic-code", ""))
    if not diagnostic:
        comment = _STATUS_COMMENT.search(status_raw)
        if comment and not any(g in comment.group(1).lower() for g in _GENERIC_COMMENTS):
            diagnostic = comment.group(1).strip()
    if not diagnostic:
        diagnostic = _diagnostic_from_text(transcript, address.strip("<> "))
    draft = Draft(
        recipient=address,
        action=action,
        status=status_raw,
        diagnostic=diagnostic,
        diagnostic_type=diag_type,
        remote_mta=_typed(fields.get("remote-mta", ""))[1],
        reporting_mta=_typed(message.get("reporting-mta", ""))[1],
        timestamp=_when(fields, message),
        original_recipient=original,
        original_message_id=message.get("x-original-message-id", "").strip(),
    )
    m = _COMMAND.search(diagnostic)
    if m:
        cmd = (m.group(1) or m.group(2) or "").upper()
        draft.command = _COMMAND_NAMES.get(cmd, cmd)
    if action in _SUCCESS_ACTIONS and not status_raw.strip().startswith(("4", "5")):
        draft.reason = Reason.DELIVERED
        draft.action = "delivered" if action == "deliverable" else action
    return draft


def parse(mail: Mail) -> list[Draft] | None:
    """One draft per recipient of a delivery status notification; None when the mail is not one."""
    ctype = mail.content_type
    if not ctype.startswith("multipart/") and ctype != "text/plain":
        return None
    texts = _status_texts(mail)
    if not texts:
        return None
    human = _human_text(mail)
    transcript = _transcript(human)
    drafts: list[Draft] = []
    text_address: str | None = None
    for text in texts:
        message, recipients = _blocks(text)
        for fields in recipients[: _MAX_RECIPIENTS - len(drafts)]:
            if (
                text_address is None
                and len(recipients) == 1
                and not _internet(fields.get("final-recipient", ""))
            ):
                text_address = _text_address(mail, human)
            draft = _draft(fields, message, transcript, text_address or "")
            if draft.recipient:
                drafts.append(draft)
    if not drafts:
        return None
    if len(drafts) == 1 and human:
        _add_context(drafts[0], _lead_text(human))
    return drafts


def _add_context(draft: Draft, lead: str) -> None:
    """A single recipient's diagnostic read together with the explanation before the report."""
    if not lead:
        return
    diagnostic = " ".join(draft.diagnostic.split())
    if diagnostic and diagnostic.lower() in lead.lower():
        return
    draft.diagnostic = f"{diagnostic} {lead}" if diagnostic else lead
