"""Compose a message from what the application gives: addresses, subject, bodies or a template,
extra headers and tags — with header injection impossible.

Every header value is checked for CR, LF and NUL (an error, never silently stripped); extra
headers may not replace the structural ones (From, To, Subject, Date, Message-ID, MIME, routing
and authentication headers). Bodies are UTF-8, quoted-printable or base64 as the email package
decides, so no line is longer than 998 octets. Output is CRLF-terminated, ready for SMTP.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
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
    smtputf8 = any(not a.isascii() for a in (from_addr, *recipients))
    policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
    msg = EmailMessage(policy=policy)
    local, _, dom = from_addr.rpartition("@")
    msg["From"] = Address(display_name=name, username=local, domain=dom)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(when)
    message_id = f"<{when:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{domain.encode('idna').decode('ascii')}>"
    msg["Message-ID"] = message_id
    if reply_to:
        msg["Reply-To"] = validate_address(_one_line(reply_to, "reply_to"))
    if list_unsubscribe:
        _one_line(list_unsubscribe, "list_unsubscribe")
        msg["List-Unsubscribe"] = f"<{list_unsubscribe.strip('<>')}>"
        if list_unsubscribe.strip("<>").startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if tags:
        msg["X-Mailfate-Tags"] = " ".join(tags)
    for key, value in (headers or {}).items():
        if not _FIELD_NAME.fullmatch(key):
            raise InputError(f"header name {key!r}: not a valid field name")
        if key.lower() in _PROTECTED or key.lower().startswith("content-"):
            raise InputError(f"header {key!r} is set by mailfate and cannot be given")
        msg[key] = _one_line(str(value), f"header {key}")
    if text is not None:
        msg.set_content(text, subtype="plain", charset="utf-8")
        if html is not None:
            msg.add_alternative(html, subtype="html", charset="utf-8")
    else:
        assert html is not None
        msg.set_content(html, subtype="html", charset="utf-8")
    try:
        raw = msg.as_bytes(policy=policy.clone(linesep="\r\n"))
    except (ValueError, TypeError) as exc:  # the email package refuses what it cannot encode
        raise InputError(f"cannot build the message: {exc}") from exc
    return Composed(raw, from_addr, recipients, subject, message_id, category, tuple(tags))
