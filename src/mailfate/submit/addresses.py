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
import re
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from mailfate.errors import InputError

__all__ = ["MAX_RECIPIENTS", "parse_recipients", "validate_address"]

MAX_RECIPIENTS = 1000


_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")
"""A local part that is a plain dot-atom (a subset of RFC 5322's, all of it valid as it is)."""


@functools.lru_cache(maxsize=8192)  # the sender, and many recipients, come again and again
def validate_address(addr: str) -> str:
    """The normalized address (see the module docstring), or InputError naming it and saying why."""
    if isinstance(addr, str):
        fast = _plain_address(addr)
        if fast is not None:
            return fast
    return _validate(addr)


def _plain_address(addr: str) -> str | None:
    """The normalized form of a plain address (a plain dot-atom before the @, a domain
    email-validator accepts), or None to let :func:`_validate` decide and word the error.

    Every recipient of a sign-up code is new, so the cache above misses; email-validator's domain
    checks are most of its cost, and domains repeat: each is checked once (:func:`_domain`), the
    local part here. The result is the one :func:`_validate` gives (a property test compares
    them): RFC 2142 mailbox names, which email-validator lowercases, and anything near a length
    limit are left to it."""
    if "\r" in addr or "\n" in addr or "\x00" in addr:
        return None
    local, at, domain = addr.strip().rpartition("@")
    if (
        not at
        or len(local) > 64
        or _PLAIN_LOCAL.fullmatch(local) is None
        or local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES
    ):
        return None
    forms = _domain(domain)
    if forms is None or len(local) + 1 + max(len(f.encode("utf-8")) for f in (domain, *forms)) > 254:
        return None
    return f"{local}@{forms[0]}"


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> tuple[str, str] | None:
    """(ASCII form, Unicode form) of ``domain`` as email-validator normalizes it in an address;
    None when it refuses the domain."""
    if not domain or "@" in domain:
        return None
    try:
        valid = validate_email(f"a@{domain}", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return (valid.ascii_domain, valid.domain) if valid.ascii_domain else None


def _validate(addr: str) -> str:
    """:func:`validate_address` through email-validator, for any address."""
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
