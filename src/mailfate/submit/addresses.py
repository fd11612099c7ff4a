"""Recipient and sender addresses, validated with email-validator.

An address comes back normalized: domain lowercased, and — when the local part is ASCII — the
domain in punycode (``kim@한국.test`` → ``kim@xn--3e0b707e.test``), the form SMTP, DSNs and the
suppression list use. An address whose local part is not ASCII keeps its Unicode form; sending it
needs SMTPUTF8 (RFC 6531).

Deliverability (DNS) is not checked at submit: the delivery attempt finds out, and its reply is
recorded. The special-use TLD ``.test`` is accepted (the simulator's domains are ``*.test``);
``.invalid``, ``.localhost``, ``.local`` and ``.onion`` are refused.
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
    """The normalized address (see the module docstring), or InputError naming it and saying why."""
    if not isinstance(addr, str) or not addr.strip():
        raise InputError("empty address")
    if any(c in addr for c in "\r\n\x00"):
        raise InputError(f"address {addr!r}: line breaks and NUL are not allowed")
    try:
        # `.test` is a special-use name that email-validator refuses by default. Its per-call
        # `test_environment=True` admits `test`/`*.test` and turns off DNS checks (which we do not
        # do at submit anyway). Editing the module global SPECIAL_USE_DOMAIN_NAMES instead would
        # change every other caller of email-validator in the process, so it is left alone.
        valid = validate_email(addr.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InputError(f"address {addr.strip()[:300]!r}: {exc}") from exc
    if len(valid.local_part.encode("utf-8")) > 64 or len(valid.normalized.encode("utf-8")) > 254:
        raise InputError(
            f"address {addr.strip()[:80]!r}: too long (RFC 5321: 64 octets before the @, 254 in all)"
        )
    return valid.ascii_email or valid.normalized


def parse_recipients(values: Sequence[str] | str) -> tuple[str, ...]:
    """Validated, deduplicated (case-insensitively on the domain) recipients, order kept.

    ``values`` is one string (``"a@x.test, b@y.test"``) or a sequence of such strings.
    """
    items = [values] if isinstance(values, str) else list(values)
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            raise InputError(f"recipient {item!r}: not a string")
        for part in item.split(","):
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
