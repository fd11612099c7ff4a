"""Spam-law and receiver-rule lint of one message (``mailfate doctor lint``).

``lint_message`` reads the message (``message``), looks for advertising in mail declared
transactional (``advertising``), applies the rules of the recipient's country (``kr``, ``us``, ``eu``,
``ca``, ``jp``) and the bulk-sender rules of the big mailbox providers (``bulk``). Every finding cites
its article or section; rule texts and citations live in ``data/compliance/rules.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from mailfate.doctor.compliance import advertising, bulk, ca, eu, jp, kr, us
from mailfate.doctor.compliance.catalog import LANGS
from mailfate.doctor.compliance.context import Kind, LintContext
from mailfate.doctor.compliance.message import LintMessage, read_message
from mailfate.doctor.findings import Finding
from mailfate.errors import InputError

__all__ = ["COUNTRIES", "KINDS", "lint_message"]

_Check = Callable[[LintMessage, LintContext], list[Finding]]
_BY_COUNTRY: dict[str, _Check] = {
    "KR": kr.check,
    "US": us.check,
    "EU": eu.check,
    "CA": ca.check,
    "JP": jp.check,
}
COUNTRIES = tuple(_BY_COUNTRY)
# EU member states (ISO 3166-1 alpha-2, Greece also as EL) are linted under the EU rules.
_EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
KINDS = tuple(kind.value for kind in Kind)


def _context(country: str, kind: str, send_at: datetime | None, lang: str) -> tuple[str, LintContext]:
    code = country.strip().upper()
    if code in _EU_MEMBERS:
        code = "EU"
    if code not in _BY_COUNTRY:
        raise InputError(
            f"unknown country {country!r}: use one of {', '.join(COUNTRIES)} or an EU member state"
        )
    try:
        declared = Kind(kind.strip().lower())
    except ValueError as exc:
        raise InputError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}") from exc
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    if send_at is not None and send_at.utcoffset() is None:
        raise InputError("send_at must carry a time zone (e.g. 2026-05-01T22:00+09:00)")
    when = send_at.astimezone(UTC) if send_at is not None else None
    return code, LintContext(kind=declared, lang=lang, send_at=when)


def lint_message(
    raw: bytes,
    *,
    country: str,
    kind: str,
    send_at: datetime | None = None,
    lang: str = "en",
) -> list[Finding]:
    """Check ``raw`` against the spam law of ``country`` (KR, US, EU or a member state, CA, JP) for a
    message of ``kind`` (transactional or marketing) and against the bulk-sender rules; findings in
    ``lang`` (en or ko).

    ``send_at`` (aware) is when the message is or was sent; without it the Date header is used.
    Raises ``InputError`` for an unknown country, kind or language or a naive ``send_at``; never
    raises on the message itself, however malformed.
    """
    code, ctx = _context(country, kind, send_at, lang)
    msg = read_message(raw)
    if not ctx.is_marketing:
        ctx = LintContext(
            kind=ctx.kind, lang=ctx.lang, send_at=ctx.send_at, advertising=advertising.find_advertising(msg)
        )
    return [*_BY_COUNTRY[code](msg, ctx), *bulk.check(msg, ctx), *advertising.check(msg, ctx)]
