"""Reading a stored message for the inbox: addresses, subject, text, HTML, parts, a snippet.

:func:`parse_summary` is what the list and the search need (cheap: compat32 parser, headers
decoded once); :func:`parse_detail` adds the text and HTML bodies, the headers and the parts
(attachments and inline parts, numbered the way Mailpit numbers them: ``1``, ``1.2``, ...).
Neither raises on a malformed message: what cannot be decoded is replaced, never fatal.
"""

from __future__ import annotations

import email.errors
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from mailfate.bounce.mail import decode_bytes, decode_header

__all__ = ["Address", "Detail", "Part", "Summary", "parse_detail", "parse_summary"]

SNIPPET = 250
SEARCH_TEXT = 64 * 1024
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_PARSER = BytesParser(policy=compat32)


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Part:
    """An attachment or inline part: ``part_id`` is its MIME number (``"2"``, ``"1.2"``)."""

    part_id: str
    filename: str
    content_type: str
    content_id: str
    size: int
    inline: bool
    checksums: dict[str, str] = field(default_factory=dict)
    """``{"MD5", "SHA1", "SHA256"}`` of the decoded bytes (hex)."""


@dataclass(slots=True)
class Summary:
    """What the list, the search and the events show of a message (Mailpit's summary fields)."""

    message_id: str
    from_: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    subject: str
    date: datetime | None
    snippet: str
    attachments: int
    search_text: str = ""
    """Lowercase haystack of the free-text search: addresses, subject, text body (first 64 KiB)."""
    to_text: str = ""
    """Lowercase names and addresses of To, Cc and Bcc (envelope recipients included), for ``to:``."""
    from_text: str = ""
    cc_text: str = ""
    bcc_text: str = ""
    subject_text: str = ""
    message_id_text: str = ""


@dataclass(slots=True)
class Detail:
    """A message in full: the summary plus bodies, headers and parts."""

    summary: Summary
    text: str
    html: str
    headers: list[tuple[str, str]]
    attachments: list[Part] = field(default_factory=list)
    inline: list[Part] = field(default_factory=list)
    return_path: str = ""
    list_unsubscribe: str = ""
    list_unsubscribe_post: str = ""


def _raw_all(msg: Message, name: str) -> list[str]:
    """Every header of that name as it arrived: raw 8-bit text (an EUC-KR subject written without
    encoded words) still there for :func:`decode_header` to read, where ``msg.get`` would have
    replaced it."""
    key = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == key]


def _raw(msg: Message, name: str) -> str | None:
    found = _raw_all(msg, name)
    return found[0] if found else None


def _addresses(msg: Message, name: str) -> list[Address]:
    values = _raw_all(msg, name)
    out: list[Address] = []
    for real, addr in email.utils.getaddresses([str(v) for v in values]):
        if addr or real:
            out.append(Address(decode_header(real), addr))
    return out


def _payload_text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    return decode_bytes(raw, part.get_content_charset()) if isinstance(raw, bytes) else ""


def _walk(msg: Message, number: str = "") -> list[tuple[str, Message]]:
    """Every leaf part with its MIME number (the root of a single-part message is ``"1"``)."""
    if not msg.is_multipart():
        return [(number or "1", msg)]
    out: list[tuple[str, Message]] = []
    payload = msg.get_payload()
    if isinstance(payload, list):
        for i, sub in enumerate(payload, 1):
            if isinstance(sub, Message):
                out.extend(_walk(sub, f"{number}.{i}" if number else str(i)))
    return out


def _is_attachment(part: Message) -> tuple[bool, bool]:
    """(is a file, is inline) for one leaf part."""
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    ctype = part.get_content_type()
    has_name = bool(part.get_filename())
    if disposition == "attachment":
        return True, False
    if disposition == "inline" and (has_name or not ctype.startswith("text/")):
        return True, True
    if ctype.startswith(("text/plain", "text/html")) and not has_name:
        return False, False
    if part.get("Content-ID") and not has_name:
        return True, True
    return (has_name or not ctype.startswith("text/")), False


def _bodies(msg: Message) -> tuple[str, str, list[Part], list[Part]]:
    text = html = ""
    attachments: list[Part] = []
    inline: list[Part] = []
    for number, part in _walk(msg):
        is_file, is_inline = _is_attachment(part)
        if is_file:
            (inline if is_inline else attachments).append(_part_info(number, part, is_inline)[0])
            continue
        if part.get_content_type() == "text/html" and not html:
            html = _payload_text(part)
        elif part.get_content_type() == "text/plain" and not text:
            text = _payload_text(part)
    return text, html, attachments, inline


def _part_info(number: str, part: Message, is_inline: bool) -> tuple[Part, bytes]:
    raw = part.get_payload(decode=True)
    data = raw if isinstance(raw, bytes) else b""
    cid = (part.get("Content-ID") or "").strip().strip("<>")
    sums = {
        "MD5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "SHA1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        "SHA256": hashlib.sha256(data).hexdigest(),
    }
    name = decode_header(part.get_filename() or "")
    return Part(number, name, part.get_content_type(), cid, len(data), is_inline, sums), data


def _date(msg: Message) -> datetime | None:
    value = msg.get("Date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None


def _summary(msg: Message, text: str, html: str, files: int, envelope: tuple[str, ...]) -> Summary:
    frm = _addresses(msg, "From")
    body = text or _TAG.sub(" ", html)
    snippet = _SPACE.sub(" ", body[: SNIPPET * 8]).strip()
    if len(snippet) > SNIPPET:
        snippet = snippet[:SNIPPET].rstrip() + "..."
    to, cc, bcc = _addresses(msg, "To"), _addresses(msg, "Cc"), _addresses(msg, "Bcc")
    listed = {a.address.lower() for a in (*to, *cc)}
    bcc += [Address("", r) for r in envelope if r.lower() not in listed and r not in {b.address for b in bcc}]
    summary = Summary(
        message_id=decode_header(_raw(msg, "Message-ID")).strip().strip("<>"),
        from_=frm[0] if frm else Address("", ""),
        to=to, cc=cc, bcc=bcc, reply_to=_addresses(msg, "Reply-To"),
        subject=decode_header(_raw(msg, "Subject")), date=_date(msg), snippet=snippet, attachments=files,
    )  # fmt: skip
    summary.to_text = _people((*to, *cc, *bcc))
    summary.from_text = _people((summary.from_,))
    summary.cc_text, summary.bcc_text = _people(cc), _people(bcc)
    summary.subject_text, summary.message_id_text = summary.subject.lower(), summary.message_id.lower()
    summary.search_text = (
        f"{summary.from_text} {summary.to_text}\n{summary.subject}\n{body[:SEARCH_TEXT]}".lower()
    )
    return summary


def _people(addresses: tuple[Address, ...] | list[Address]) -> str:
    return " ".join(f"{a.name} {a.address}" for a in addresses).lower()


def parse_summary(content: bytes, envelope: tuple[str, ...] = ()) -> Summary:
    """The summary of a stored message; envelope recipients missing from To/Cc count as Bcc."""
    msg = _PARSER.parsebytes(content)
    text, html, attachments, _ = _bodies(msg)
    return _summary(msg, text, html, len(attachments), envelope)


def parse_detail(content: bytes, envelope: tuple[str, ...] = ()) -> Detail:
    """The whole message: summary, text and HTML bodies, headers in order, parts."""
    msg = _PARSER.parsebytes(content)
    text, html, attachments, inline = _bodies(msg)
    headers = [(str(k), decode_header(v)) for k, v in msg.raw_items()]
    return Detail(
        summary=_summary(msg, text, html, len(attachments), envelope),
        text=text, html=html, headers=headers, attachments=attachments, inline=inline,
        return_path=decode_header(_raw(msg, "Return-Path")).strip("<>"),
        list_unsubscribe=decode_header(_raw(msg, "List-Unsubscribe")),
        list_unsubscribe_post=decode_header(_raw(msg, "List-Unsubscribe-Post")),
    )  # fmt: skip


def part_bytes(content: bytes, part_id: str) -> tuple[Part, bytes] | None:
    """One leaf part by its MIME number: its description and decoded bytes (``None``: no such part)."""
    msg = _PARSER.parsebytes(content)
    for number, part in _walk(msg):
        if number == part_id:
            return _part_info(number, part, _is_attachment(part)[1])
    return None
