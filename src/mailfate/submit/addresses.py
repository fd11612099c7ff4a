"""Recipient and sender addresses, validated with email-validator.

Deliverability (DNS) is not checked at submit: the delivery attempt finds out, and its reply is
recorded. The special-use TLD ``.test`` is accepted (``test_environment=True``; the simulator's
domains are ``*.test``); ``.invalid``, ``.localhost``, ``.local`` and ``.onion`` are refused.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email

from mailfate.errors import InputError

__all__ = ["MAX_RECIPIENTS", "parse_recipients", "validate_address"]

MAX_RECIPIENTS = 1000


@functools.lru_cache(maxsize=8192)  # the sender, and many recipients, come again and again
def validate_address(addr: str) -> str:
    """The normalized address (IDN domains as Unicode; see :func:`ascii_address` for SMTP)."""
    if not isinstance(addr, str) or not addr.strip():
        raise InputError("empty address")
    if any(c in addr for c in "\r\n\x00"):
        raise InputError(f"address {addr!r}: line breaks and NUL are not allowed")
    try:
        valid = validate_email(addr.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InputError(f"address {addr.strip()!r}: {exc}") from exc
    local = valid.local_part.encode("utf-8")
    if len(local) > 64 or len(valid.normalized.encode("utf-8")) > 254:
        raise InputError(
            f"address {addr.strip()[:80]!r}: too long (RFC 5321: 64 octets before the @, 254 in all)"
        )
    return valid.normalized


def ascii_address(addr: str) -> str:
    """The address with its domain in punycode (what goes into MAIL FROM / RCPT TO)."""
    local, _, domain = addr.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return addr


def parse_recipients(values: Sequence[str] | str) -> tuple[str, ...]:
    """Validated, deduplicated (case-insensitively on the domain) recipients, order kept."""
    items = [values] if isinstance(values, str) else list(values)
    out: dict[str, str] = {}
    for item in items:
        for part in str(item).split(","):
            if not part.strip():
                continue
            addr = validate_address(part)
            local, _, domain = addr.rpartition("@")
            out.setdefault(f"{local}@{domain.lower()}", addr)
            if len(out) > MAX_RECIPIENTS:
                raise InputError(f"more than {MAX_RECIPIENTS} recipients in one message")
    if not out:
        raise InputError("no recipient given")
    return tuple(out.values())
