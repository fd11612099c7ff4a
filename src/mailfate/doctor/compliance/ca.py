"""Canada: CASL (S.C. 2010, c. 23) s. 6 and the CRTC Electronic Commerce Protection Regulations.

A commercial electronic message identifies its sender, gives a mailing address plus a phone, e-mail or
web contact, and sets out an unsubscribe mechanism; consent cannot be read from the message, so an
info finding asks for the record.
"""

from __future__ import annotations

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["check"]


def sender_name(msg: LintMessage) -> str:
    """The sender's name from the From display name or the body."""
    return msg.from_display.strip() or signals.company_name(msg)


def _contact(msg: LintMessage, ctx: LintContext) -> Finding:
    address = signals.postal_address(msg)
    other = (
        signals.phone(msg)
        or signals.email_address(msg)
        or next((link for link in msg.links if link.lower().startswith(("https://", "http://"))), "")
    )
    if address and other:
        shown = f"{address}; {other}"
        return finding("ca-casl-contact", Severity.OK, "ok", lang=ctx.lang, evidence=shown, found=shown)
    ko = ctx.lang == "ko"
    missing = []
    if not address:
        missing.append("우편 주소" if ko else "mailing address")
    if not other:
        missing.append("전화, 이메일 또는 웹 주소" if ko else "phone, e-mail or web address")
    return finding(
        "ca-casl-contact",
        Severity.ERROR,
        "missing",
        lang=ctx.lang,
        evidence=address or other,
        missing=", ".join(missing),
    )


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    if not ctx.is_marketing:
        return [finding("ca-casl-transactional", Severity.OK, "ok", lang=ctx.lang)]
    name = sender_name(msg)
    sender = (
        finding("ca-casl-sender", Severity.OK, "ok", lang=ctx.lang, evidence=name, found=name)
        if name
        else finding(
            "ca-casl-sender", Severity.ERROR, "missing", lang=ctx.lang, evidence=f"From: {msg.from_addr}"
        )
    )
    link = signals.optout_link(msg) or (signals.optout_means(msg) if signals.optout_wording(msg) else "")
    unsubscribe = (
        finding("ca-casl-unsubscribe", Severity.OK, "ok", lang=ctx.lang, evidence=link, found=link)
        if link
        else finding("ca-casl-unsubscribe", Severity.ERROR, "missing", lang=ctx.lang)
    )
    consent = finding("ca-casl-consent", Severity.INFO, "info", lang=ctx.lang)
    return [sender, _contact(msg, ctx), unsubscribe, consent]
