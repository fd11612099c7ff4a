"""Domain names and addresses as the user types them → the form DNS is asked with.

``normalize_domain`` accepts Unicode (IDNA 2008 with UTS #46 mapping: ``Bücher.example``) and
punycode (``xn--bcher-kva.example``) alike and returns both forms; anything DNS cannot carry
(empty, over 253 characters, a label over 63, an IP address, ``_`` or spaces, broken punycode)
raises :class:`InputError` with a sentence saying what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import idna

from mailfate.errors import InputError

__all__ = ["DomainName", "normalize_domain", "normalize_ip", "normalize_selector"]

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SELECTOR_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
MAX_NAME = 253


@dataclass(frozen=True, slots=True)
class DomainName:
    """One domain in its two spellings."""

    ascii: str
    """Lowercase A-labels, no final dot: what DNS is asked for."""
    unicode: str
    """U-labels for people (equal to ``ascii`` for an all-ASCII name)."""


def _shorten(text: str) -> str:
    return text if len(text) <= 60 else f"{text[:40]}…({len(text)} characters)"


def normalize_domain(text: str, *, what: str = "domain") -> DomainName:
    """``text`` as a :class:`DomainName`; ``InputError`` when it cannot be a mail domain."""
    raw = text.strip()
    if raw.endswith(".") and not raw.endswith(".."):
        raw = raw[:-1]
    if not raw:
        raise InputError(f"the {what} is empty: give a domain such as example.com")
    if "@" in raw:
        host = raw.rpartition("@")[2]
        hint = f" (did you mean {host!r}?)" if host else ""
        raise InputError(f"{_shorten(raw)!r} is an address, not a {what}: give the part after @{hint}")
    if len(raw) > 4 * MAX_NAME:
        raise InputError(f"the {what} {_shorten(raw)!r} is longer than the {MAX_NAME} characters DNS allows")
    if raw.isascii() and len(raw) > MAX_NAME:
        raise InputError(
            f"the {what} {_shorten(raw)!r} is {len(raw)} characters long; DNS allows at most {MAX_NAME}"
        )
    try:
        ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        pass
    else:
        raise InputError(f"{raw!r} is an IP address, not a {what}: give the domain you send as")
    try:
        encoded = idna.encode(raw, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InputError(f"{_shorten(raw)!r} is not a valid {what} name: {exc}") from exc
    except (UnicodeError, ValueError) as exc:
        raise InputError(f"{_shorten(raw)!r} is not a valid {what} name ({exc})") from exc
    name = encoded.lower()
    if len(name) > MAX_NAME:
        raise InputError(
            f"the {what} {_shorten(raw)!r} is {len(name)} characters long; DNS allows at most {MAX_NAME}"
        )
    labels = name.split(".")
    for label in labels:
        if len(label) > 63:
            raise InputError(f"the label {_shorten(label)!r} is {len(label)} characters; DNS allows 63")
        if not _LABEL.match(label):
            raise InputError(
                f"{_shorten(raw)!r}: the label {_shorten(label)!r} may only hold letters, digits and inner "
                "hyphens"
            )
    if len(labels) < 2:
        raise InputError(f"{raw!r} is a single label: give the full {what} (example.com)")
    if labels[-1].isdigit():
        raise InputError(f"{raw!r} ends in a numeric label: top-level domains are never all digits")
    try:
        unicode = idna.decode(name)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise InputError(f"{_shorten(raw)!r}: invalid punycode ({exc})") from exc
    return DomainName(name, unicode)


def normalize_ip(text: str) -> str:
    """The canonical text of an IPv4/IPv6 address; ``InputError`` otherwise."""
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError as exc:
        raise InputError(f"--ip {text!r} is not an IPv4 or IPv6 address") from exc


def normalize_selector(text: str) -> str:
    """A DKIM selector (``s=``): one or more dot-separated labels, ``_`` allowed."""
    value = text.strip().strip(".")
    if not value or len(value) > 200 or not all(_SELECTOR_LABEL.match(p) for p in value.split(".")):
        raise InputError(
            f"--selector {text!r} is not a DKIM selector: use the s= value of a DKIM-Signature, e.g. s1"
        )
    return value
