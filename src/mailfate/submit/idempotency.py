"""Idempotency keys derived from a submitted message, so a retry after a lost answer is no copy.

A client that hands a message over and never hears the answer (the server died after committing,
the connection dropped before the 250 or the 202) sends it again. With an idempotency key the
store returns the first message instead of queuing a second. ``Client.send_raw`` and SMTP
submission derive one from what a retry repeats exactly:

- who submits (the API key behind an SMTP AUTH, or the in-process client), so one sender can never
  dedupe against another's mail;
- the Message-ID header — without one there is no key (a missing Message-ID is then added, fresh
  each time, so there is nothing a retry would repeat);
- the envelope (sender, recipients) and the bytes of the message, so a Message-ID reused for a
  different message (an application with a fixed Message-ID, the same message split over two
  transactions for different recipients) is still queued.

The result is a SHA-256 digest behind a short prefix: 69 characters, well inside the 200 an
idempotency key may have, whatever the Message-ID's length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["MAX_KEY_LENGTH", "derived_key", "normalize_message_id"]

MAX_KEY_LENGTH = 200
"""The longest idempotency key the store, the API and the client accept."""

_PREFIX = "mid1:"  # the derivation's version: a later change of what is hashed gets a new prefix


def normalize_message_id(value: str) -> str:
    """The Message-ID header's value without folding or surrounding blanks ("" when absent)."""
    return " ".join(value.split())


def derived_key(
    message_id: str,
    *,
    principal: str,
    mail_from: str,
    recipients: Iterable[str],
    raw: bytes,
) -> str | None:
    """The idempotency key of one submitted message, or None when it has no Message-ID.

    ``principal`` names who submits (``"key:12"`` for an API key); ``recipients`` are the
    validated envelope recipients (their order does not matter); ``raw`` is the message as the
    client sent it (before a Date or Message-ID is added)."""
    mid = normalize_message_id(message_id)
    if not mid:
        return None
    digest = hashlib.sha256()
    for part in (principal, mid, mail_from, *sorted(set(recipients))):
        data = part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "big") + data)  # length-prefixed: no ambiguous joins
    digest.update(hashlib.sha256(raw).digest())
    return _PREFIX + digest.hexdigest()
