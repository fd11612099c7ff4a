"""A message the application composed itself (SMTP submission, ``Client.send_raw``), made ready
for the queue: the envelope validated, the header read for From, Subject and Message-ID, a missing
Date or Message-ID added, and an idempotency key derived (:mod:`mailfate.submit.idempotency`)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailfate.errors import InputError
from mailfate.model import NewMessage
from mailfate.submit.addresses import parse_recipients, validate_address
from mailfate.submit.compose import CATEGORIES, check_tags
from mailfate.submit.idempotency import derived_key, normalize_message_id

__all__ = ["OPTION_HEADERS", "HeaderOptions", "prepare_raw", "take_options"]

OPTION_HEADERS = {
    "x-mailfate-tags": "tags",
    "x-mailfate-category": "category",
    "x-mailfate-deadline": "deadline",
    "x-mailfate-idempotency-key": "idempotency_key",
}
"""Header fields that carry the API's options over SMTP (taken out before the message is stored)."""


@dataclass(frozen=True, slots=True)
class HeaderOptions:
    """What the ``X-Mailfate-*`` fields of a message asked for (None/empty: not given)."""

    tags: tuple[str, ...] = ()
    category: str | None = None
    deadline: str | None = None
    idempotency_key: str | None = None


def take_options(raw: bytes) -> tuple[bytes, HeaderOptions]:
    """The message without its ``X-Mailfate-*`` header fields, and the options they gave: tags
    (comma-separated), category, deadline (a duration: "10m"), idempotency key. A field given
    twice, an unknown category or a bad tag is an InputError; the receiver never sees the fields."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    newline = b"\r\n"
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
        newline = b"\n"
    if not sep:
        return raw, HeaderOptions()
    kept: list[bytes] = []
    found: dict[str, str] = {}
    dropping, last = False, ""
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):  # a folded field continues
            if dropping:
                found[last] = f"{found[last]} {line.decode('utf-8', 'replace').strip()}".strip()
            else:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        dropping = name in OPTION_HEADERS
        if dropping:
            last = OPTION_HEADERS[name]
            if last in found:
                raise InputError(f"{line.split(b':', 1)[0].decode('ascii', 'replace')}: given twice")
            found[last] = line.split(b":", 1)[1].decode("utf-8", "replace").strip() if b":" in line else ""
        else:
            kept.append(line)
    if not found:
        return raw, HeaderOptions()
    tags = tuple(t.strip() for t in found.get("tags", "").split(",") if t.strip())
    check_tags(tags)
    category = found.get("category") or None
    if category is not None and category not in CATEGORIES:
        raise InputError(f"X-Mailfate-Category {category!r}: one of {', '.join(CATEGORIES)}")
    options = HeaderOptions(
        tags, category, found.get("deadline") or None, found.get("idempotency_key") or None
    )
    return newline.join(kept) + sep + body, options


def _header(raw: bytes) -> email.message.Message:
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, _ = raw.partition(b"\n\n")
    if b"\x00" in head:
        raise InputError("the message's header holds a NUL character (RFC 5322 2.2 allows none)")
    return email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.compat32)


def prepare_raw(
    raw: bytes,
    *,
    mail_from: str,
    rcpt_to: Sequence[str],
    now: datetime,
    max_age: float,
    tags: Sequence[str] = (),
    category: str = "transactional",
    idempotency_key: str | None = None,
    idempotency_scope: str = "client",
) -> NewMessage:
    """The message to store; InputError names what is unusable. The sending domain is the From
    header's (the envelope sender's when the header has none). With ``idempotency_key`` None the
    key is derived from ``idempotency_scope``, the Message-ID, the envelope and the bytes as given
    (None without a Message-ID: the one added here is new each time)."""
    recipients = parse_recipients(list(rcpt_to))
    sender = validate_address(mail_from) if mail_from else ""
    parsed = _header(raw)
    from_header = email.utils.parseaddr(str(parsed.get("From", "")))[1]
    from_addr = from_header if "@" in from_header else sender
    if not from_addr:
        raise InputError("the message has no From address and the envelope sender is empty")
    extra = b""
    if parsed.get("Date") is None:
        extra += f"Date: {email.utils.format_datetime(now)}\r\n".encode()
    message_id = normalize_message_id(str(parsed.get("Message-ID", "")))
    if idempotency_key is None:
        idempotency_key = derived_key(
            message_id, principal=idempotency_scope, mail_from=sender, recipients=recipients, raw=raw
        )
    if not message_id:
        message_id = f"<{now:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{from_addr.rpartition('@')[2]}>"
        extra += f"Message-ID: {message_id}\r\n".encode()
    return NewMessage(
        from_addr=from_addr,
        recipients=recipients,
        raw=extra + raw,
        subject=str(parsed.get("Subject", ""))[:998],
        category=category,
        tags=tuple(tags),
        idempotency_key=idempotency_key,
        header_message_id=message_id,
        max_age=max_age,
    )
