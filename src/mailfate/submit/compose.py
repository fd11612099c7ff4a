"""Compose a message from what the application gives: addresses, subject, bodies or a template,
extra headers and tags — with header injection impossible.

Every header value is checked for line breaks and NUL (an error, never silently stripped); extra
headers may not replace the structural ones (From, To, Subject, Date, Message-ID, MIME, routing
and authentication headers). Non-ASCII header text is RFC 2047-encoded (``email.header``), bodies
are 7bit when they are short-lined ASCII and base64 UTF-8 otherwise, so no line is longer than
998 octets. The message is assembled directly (the ``email`` package's EmailMessage costs ten
times as much per message); the tests parse every result back with it. Output is CRLF, ready for SMTP.
"""

from __future__ import annotations

import base64
import email.header
import email.utils
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailfate.errors import InputError
from mailfate.submit.addresses import parse_recipients, validate_address
from mailfate.submit.templates import render_template

__all__ = ["CATEGORIES", "Composed", "compose"]

CATEGORIES = ("transactional", "marketing")
_FIELD_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # RFC 5322 ftext
_TAG = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PROTECTED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "return-path",
        "received",
        "dkim-signature",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "sender",
        "resent-from",
        "resent-to",
        "x-mailfate-tags",
    }
)
MAX_TAGS = 20


@dataclass(frozen=True, slots=True)
class Composed:
    raw: bytes
    from_addr: str
    recipients: tuple[str, ...]
    subject: str
    header_message_id: str
    category: str
    tags: tuple[str, ...]


_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines splits on


def _one_line(value: str, what: str) -> str:
    if not _BREAKS.isdisjoint(value):
        raise InputError(f"{what}: line breaks and NUL are not allowed in a header (header injection)")
    return value


def _idna(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _smtp_address(addr: str) -> str:
    local, _, domain = addr.rpartition("@")
    return f"{local}@{_idna(domain)}"


def _header(name: str, value: str) -> bytes:
    """One header field, RFC 2047-encoded when it is not ASCII, folded under 78 columns."""
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode("ascii")
    if value.isascii() and name in ("From", "To", "Reply-To"):
        return f"{name}: {value}\r\n".encode("ascii")  # address lists are not re-encoded
    encoded = email.header.Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name)
    return f"{name}: {encoded.encode(linesep=chr(13) + chr(10))}\r\n".encode("ascii")


def _part(body: str, subtype: str) -> bytes:
    """A text part: 7bit when it is short-lined ASCII, else base64 (UTF-8), lines of 76."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    lines = data.split(b"\n")
    if data.isascii() and all(len(line) <= 990 for line in lines) and b"\x00" not in data:
        content = b"\r\n".join(lines)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        cte = "7bit"
    else:
        content = base64.encodebytes(data).replace(b"\n", b"\r\n")
        cte = "base64"
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    return head.encode("ascii") + content


def _sender(value: str) -> tuple[str, str]:
    """(display name, address) of ``"Name <addr>"`` or ``addr``."""
    _one_line(value, "from")
    name, addr = email.utils.parseaddr(value)
    if not addr:
        raise InputError(f"from {value!r}: not an address")
    return name, validate_address(addr)


def compose(
    *,
    from_: str,
    to: Sequence[str] | str,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    template: str | None = None,
    variables: Mapping[str, Any] | None = None,
    lang: str = "en",
    headers: Mapping[str, str] | None = None,
    tags: Sequence[str] = (),
    category: str = "transactional",
    reply_to: str | None = None,
    list_unsubscribe: str | None = None,
    now: datetime | None = None,
    template_dirs: Sequence[Path] = (),
) -> Composed:
    if category not in CATEGORIES:
        raise InputError(f"category {category!r}: one of {', '.join(CATEGORIES)}")
    name, from_addr = _sender(from_)
    recipients = parse_recipients(to)
    if template is not None:
        if text is not None or html is not None:
            raise InputError("give a template or text/html, not both")
        rendered = render_template(template, variables or {}, lang, template_dirs)
        subject = subject if subject is not None else rendered.subject
        text, html = rendered.text, rendered.html
    if subject is None:
        raise InputError("subject: required (or use a template)")
    if text is None and html is None:
        raise InputError("give text, html or a template")
    _one_line(subject, "subject")
    if len(tags) > MAX_TAGS:
        raise InputError(f"tags: at most {MAX_TAGS}")
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise InputError(f"tag {tag!r}: 1-64 of A-Z a-z 0-9 _ . : -")
    domain = from_addr.rpartition("@")[2]
    when = (now or datetime.now(UTC)).astimezone(UTC)
    local, _, dom = from_addr.rpartition("@")
    message_id = f"<{when:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{domain.encode('idna').decode('ascii')}>"
    fields: list[tuple[str, str]] = [
        ("From", email.utils.formataddr((name, f"{local}@{_idna(dom)}"), charset="utf-8")),
        ("To", ", ".join(_smtp_address(r) for r in recipients)),
        ("Subject", subject),
        ("Date", email.utils.format_datetime(when)),
        ("Message-ID", message_id),
    ]
    if reply_to:
        fields.append(("Reply-To", _smtp_address(validate_address(_one_line(reply_to, "reply_to")))))
    if list_unsubscribe:
        _one_line(list_unsubscribe, "list_unsubscribe")
        fields.append(("List-Unsubscribe", f"<{list_unsubscribe.strip('<>')}>"))
        if list_unsubscribe.strip("<>").startswith("https://"):
            fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if tags:
        fields.append(("X-Mailfate-Tags", " ".join(tags)))
    for key, value in (headers or {}).items():
        if not _FIELD_NAME.fullmatch(key):
            raise InputError(f"header name {key!r}: not a valid field name")
        if key.lower() in _PROTECTED or key.lower().startswith("content-") or key.lower() == "mime-version":
            raise InputError(f"header {key!r} is set by mailfate and cannot be given")
        fields.append((key, _one_line(str(value), f"header {key}")))
    head = b"".join(_header(k, v) for k, v in fields) + b"MIME-Version: 1.0\r\n"
    if text is not None and html is not None:
        boundary = f"=_mailfate_{secrets.token_hex(12)}"
        raw = (
            head
            + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
            + f"--{boundary}\r\n".encode()
            + _part(text, "plain")
            + f"\r\n--{boundary}\r\n".encode()
            + _part(html, "html")
            + f"\r\n--{boundary}--\r\n".encode()
        )
    else:
        body = text if text is not None else html
        assert body is not None
        raw = head + _part(body, "plain" if text is not None else "html")
    return Composed(raw, from_addr, recipients, subject, message_id, category, tuple(tags))
