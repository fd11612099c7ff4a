"""Japan: 特定電子メールの送信の適正化等に関する法律 (Act on Regulation of Transmission of Specified
Electronic Mail) Art. 3 (opt-in, consent records) and Art. 4 (what every advertising mail shows)."""

from __future__ import annotations

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["check"]


def _sender(msg: LintMessage, ctx: LintContext) -> Finding:
    name = signals.company_name(msg) or msg.from_display.strip()
    address = signals.postal_address(msg)
    if name and address:
        shown = f"{name}; {address}"
        return finding("jp-sender", Severity.OK, "ok", lang=ctx.lang, evidence=shown, found=shown)
    ko = ctx.lang == "ko"
    missing = []
    if not name:
        missing.append("발신자 이름" if ko else "sender name")
    if not address:
        missing.append("주소" if ko else "postal address")
    return finding(
        "jp-sender",
        Severity.ERROR,
        "missing",
        lang=ctx.lang,
        evidence=name or address,
        missing=", ".join(missing),
    )


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    if not ctx.is_marketing:
        return [finding("jp-transactional", Severity.OK, "ok", lang=ctx.lang)]
    means = signals.optout_means(msg) if signals.optout_wording(msg) else ""
    optout = (
        finding("jp-optout", Severity.OK, "ok", lang=ctx.lang, evidence=means, found=means)
        if means
        else finding("jp-optout", Severity.ERROR, "missing", lang=ctx.lang)
    )
    return [finding("jp-consent", Severity.INFO, "info", lang=ctx.lang), _sender(msg, ctx), optout]
