"""Bulk-sender rules: List-Unsubscribe (RFC 2369), one-click unsubscribe (RFC 8058) and the visible
unsubscribe link Gmail and Yahoo ask of marketing senders since February 2024.

Transactional mail (verification codes, receipts) is exempt from the unsubscribe requirements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["UnsubscribeHeader", "check", "parse_list_unsubscribe"]

ONE_CLICK = "List-Unsubscribe=One-Click"
_BRACKETED = re.compile(r"<\s*([^<>\s]+)\s*>")
_BARE = re.compile(r"(?:https?|mailto):[^\s,<>]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class UnsubscribeHeader:
    """The URIs of a List-Unsubscribe header; ``bracketed`` is false when they lacked <…>."""

    uris: tuple[str, ...]
    bracketed: bool

    @property
    def https(self) -> tuple[str, ...]:
        return tuple(u for u in self.uris if u.lower().startswith("https:"))

    @property
    def mailto(self) -> tuple[str, ...]:
        return tuple(u for u in self.uris if u.lower().startswith("mailto:"))

    @property
    def usable(self) -> tuple[str, ...]:
        return tuple(u for u in self.uris if u.lower().startswith(("https:", "http:", "mailto:")))


def parse_list_unsubscribe(value: str) -> UnsubscribeHeader:
    """The URIs of a List-Unsubscribe value (RFC 2369 §2: a comma list of <URI>)."""
    uris = tuple(_BRACKETED.findall(value))
    if uris:
        return UnsubscribeHeader(uris=uris, bracketed=True)
    return UnsubscribeHeader(uris=tuple(_BARE.findall(value)), bracketed=False)


def _list_unsubscribe(msg: LintMessage, header: UnsubscribeHeader, ctx: LintContext) -> Finding:
    domain = msg.from_domain or "example.com"
    if not msg.list_unsubscribe:
        return finding("list-unsubscribe", Severity.ERROR, "missing", lang=ctx.lang, domain=domain)
    evidence = f"List-Unsubscribe: {msg.list_unsubscribe}"
    if not header.bracketed or not header.usable:
        return finding(
            "list-unsubscribe",
            Severity.WARNING if header.usable else Severity.ERROR,
            "malformed",
            lang=ctx.lang,
            evidence=evidence,
            found=msg.list_unsubscribe,
            domain=domain,
        )
    shown = ", ".join(header.usable)
    return finding("list-unsubscribe", Severity.OK, "ok", lang=ctx.lang, evidence=evidence, found=shown)


def _one_click(msg: LintMessage, header: UnsubscribeHeader, ctx: LintContext) -> Finding | None:
    if not header.usable:
        return None  # list-unsubscribe already says what to add
    domain = msg.from_domain or "example.com"
    post = msg.list_unsubscribe_post.strip()
    evidence = f"List-Unsubscribe: {msg.list_unsubscribe}\nList-Unsubscribe-Post: {post or '(absent)'}"
    if not header.https:
        if header.mailto and len(header.mailto) == len(header.usable):
            return finding("rfc8058", Severity.WARNING, "mailto_only", lang=ctx.lang, evidence=evidence)
        others = ", ".join(header.usable)
        return finding(
            "rfc8058",
            Severity.ERROR,
            "no_https",
            lang=ctx.lang,
            evidence=evidence,
            found=others,
            domain=domain,
        )
    if not post:
        return finding("rfc8058", Severity.ERROR, "no_post", lang=ctx.lang, evidence=evidence)
    if "".join(post.split()).casefold() != ONE_CLICK.casefold():
        return finding("rfc8058", Severity.ERROR, "bad_post", lang=ctx.lang, evidence=evidence, found=post)
    return finding("rfc8058", Severity.OK, "ok", lang=ctx.lang, evidence=evidence, found=header.https[0])


def _dkim_coverage(msg: LintMessage, ctx: LintContext) -> Finding:
    needed = {"list-unsubscribe", "list-unsubscribe-post"}
    if not msg.dkim_signed:
        return finding("rfc8058-dkim", Severity.INFO, "unsigned", lang=ctx.lang)
    for signed in msg.dkim_signed:
        if needed <= signed:
            return finding(
                "rfc8058-dkim", Severity.OK, "ok", lang=ctx.lang, evidence="h=" + ":".join(sorted(signed))
            )
    shown = " | ".join("h=" + ":".join(sorted(signed)) for signed in msg.dkim_signed)
    return finding("rfc8058-dkim", Severity.WARNING, "uncovered", lang=ctx.lang, evidence=shown)


def _body_link(msg: LintMessage, ctx: LintContext) -> Finding:
    link = signals.optout_link(msg)
    if link:
        return finding("bulk-body-unsubscribe", Severity.OK, "ok", lang=ctx.lang, evidence=link, found=link)
    return finding("bulk-body-unsubscribe", Severity.WARNING, "missing", lang=ctx.lang)


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    if not ctx.is_marketing:
        return [finding("bulk-transactional", Severity.OK, "ok", lang=ctx.lang)]
    header = parse_list_unsubscribe(msg.list_unsubscribe)
    findings = [_list_unsubscribe(msg, header, ctx)]
    one_click = _one_click(msg, header, ctx)
    if one_click is not None:
        findings.append(one_click)
        if one_click.severity is Severity.OK:
            findings.append(_dkim_coverage(msg, ctx))
    findings.append(_body_link(msg, ctx))
    return findings
