"""Shared pieces of the appliance, groupware and minor-MTA parsers (not a parser itself).

Reading the readable body of a bounce, cutting it at the vendor's marker for the returned message,
reading the fields of a message/delivery-status part, and turning a reply text into a Draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailfate.bounce.mail import Mail
from mailfate.bounce.record import Draft
from mailfate.model.reply import STATUS_PATTERN, find_replycode, normalize_status

__all__ = [
    "ADDRESS",
    "DsnReport",
    "body_before",
    "command_in",
    "dsn_drafts",
    "dsn_fields",
    "dsn_report",
    "find_address",
    "host_of",
    "pick_status",
    "readable",
    "reply_draft",
    "split_typed",
]

ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,128}@[A-Za-z0-9](?:[A-Za-z0-9\-.]{0,250}[A-Za-z0-9])?"
)
_STATUS_CODE = re.compile(r"\b" + STATUS_PATTERN + r"\b")
_COMMAND = re.compile(r"\b(RCPT TO|MAIL FROM|DATA|EHLO|HELO|RCPT|MAIL|CONNECT)\b", re.IGNORECASE)
_SKIP_LEAVES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")


def find_address(text: str) -> str:
    """The first e-mail address in a text, "" when none."""
    m = ADDRESS.search(text)
    return m.group(0).strip(".") if m else ""


def readable(mail: Mail, *, with_dsn: bool = False) -> str:
    """The report text: every textual leaf except the returned message, joined.

    Leaves declared multipart/* with no usable boundary are read as text too (some gateways
    break the boundary parameter of a nested part).
    """
    if not mail.message.is_multipart():
        return mail.parts[0].text.replace("\r\n", "\n") if mail.parts else ""
    chunks: list[str] = []
    for p in mail.parts:
        ctype = p.content_type
        if ctype in _SKIP_LEAVES:
            continue
        if ctype in ("message/delivery-status", "message/global-delivery-status") and not with_dsn:
            continue
        if ctype.startswith(("text/", "multipart/", "message/")):
            chunks.append(p.text)
    return "\n".join(chunks).replace("\r\n", "\n")


def body_before(text: str, markers: Iterable[str]) -> list[str]:
    """The lines of ``text`` before the first line that starts with one of ``markers``."""
    marks = tuple(markers)
    out: list[str] = []
    for line in text.split("\n"):
        if marks and line.strip().startswith(marks):
            break
        out.append(line.rstrip())
    return out


def split_typed(value: str) -> tuple[str, str]:
    """("smtp", "550 ...") from "smtp; 550 ..."; ("", value) when there is no type."""
    head, sep, rest = value.partition(";")
    if sep and head and " " not in head.strip() and len(head) < 20:
        return head.strip(), rest.strip()
    return "", value.strip()


def host_of(value: str) -> str:
    """The host name of a Remote-MTA / Reporting-MTA value ("dns; mx.example.org [192.0.2.1]")."""
    _, rest = split_typed(value)
    return rest.split()[0] if rest.split() else ""


class DsnReport:
    """The fields of a message/delivery-status part: per message and per recipient."""

    __slots__ = ("message", "recipients")

    def __init__(self) -> None:
        self.message: dict[str, str] = {}
        self.recipients: list[dict[str, str]] = []

    def for_recipient(self, address: str) -> dict[str, str]:
        """The fields of one recipient (matched case-insensitively), {} when absent."""
        want = address.lower()
        for fields in self.recipients:
            rcpt = fields.get("final-recipient") or fields.get("original-recipient") or ""
            if find_address(rcpt).lower() == want:
                return fields
        return {}


def _fields(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key = ""
    for line in block.split("\n"):
        if not line.strip():
            continue
        if line[0] in " \t" and key:
            out[key] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or " " in name.strip():
            continue
        key = name.strip().lower()
        if key not in out:
            out[key] = value.strip()
        else:
            key = ""
    return out


def dsn_report(mail: Mail) -> DsnReport:
    """Per-message and per-recipient fields of the first delivery-status part (empty when none)."""
    part = mail.part("message/delivery-status", "message/global-delivery-status")
    if part is None:
        return DsnReport()
    return dsn_fields(part.text)


def dsn_fields(text: str) -> DsnReport:
    """Per-message and per-recipient fields of the text of a delivery-status part."""
    report = DsnReport()
    text = text.replace("\r\n", "\n")
    for block in re.split(r"\n\s*\n", text):
        fields = _fields(block)
        if not fields:
            continue
        if "final-recipient" in fields or "original-recipient" in fields:
            report.recipients.append(fields)
        elif not report.recipients:
            report.message.update(fields)
        else:
            # a recipient's fields split by a stray blank line: attach to the last recipient
            for k, v in fields.items():
                report.recipients[-1].setdefault(k, v)
    return report


def pick_status(*candidates: str) -> str:
    """The first specific enhanced status code (not x.0.0) among candidates, else the first one."""
    codes = [normalize_status(c) for c in candidates if c]
    codes = [c for c in codes if c]
    for code in codes:
        if not code.endswith(".0.0"):
            return code
    return codes[0] if codes else ""


def command_in(text: str) -> str:
    """The SMTP command named in a transcript line (RCPT, MAIL, DATA, EHLO, HELO, CONN), or ""."""
    m = _COMMAND.search(text)
    if not m:
        return ""
    word = m.group(1).upper()
    return {"RCPT TO": "RCPT", "MAIL FROM": "MAIL", "CONNECT": "CONN"}.get(word, word)


def reply_draft(
    recipient: str,
    diagnostic: str,
    *,
    status: str = "",
    command: str = "",
    action: str = "failed",
    remote_mta: str = "",
    reporting_mta: str = "",
    diagnostic_type: str = "",
) -> Draft:
    """A Draft for one recipient from the reply text the bounce quotes.

    The reply code and status come from the text when it carries them; ``status`` (a DSN's Status
    field, say) is used when the text has no specific code of its own.
    """
    text = " ".join(diagnostic.split())
    return Draft(
        recipient=recipient,
        action=action,
        status=pick_status(_first_status(text), status),
        replycode=find_replycode(text),
        diagnostic=text,
        diagnostic_type=diagnostic_type,
        command=command,
        remote_mta=remote_mta,
        reporting_mta=reporting_mta,
    )


def _first_status(text: str) -> str:
    m = _STATUS_CODE.search(text)
    return m.group(0) if m else ""


def dsn_drafts(report: DsnReport) -> list[Draft]:
    """One Draft per recipient block of a delivery-status part, in the order listed."""
    reporting = host_of(report.message.get("reporting-mta", ""))
    drafts: list[Draft] = []
    for fields in report.recipients:
        address = find_address(fields.get("final-recipient") or fields.get("original-recipient", ""))
        if not address:
            continue
        dtype, diagnostic = split_typed(fields.get("diagnostic-code", ""))
        status = fields.get("status", "")
        drafts.append(
            reply_draft(
                address,
                diagnostic,
                status=status,
                action=fields.get("action", "failed").lower(),
                remote_mta=host_of(fields.get("remote-mta", "")),
                reporting_mta=reporting,
                diagnostic_type=dtype,
            )
        )
    return drafts
