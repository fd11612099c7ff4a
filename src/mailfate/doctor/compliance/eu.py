"""European Union: ePrivacy Directive 2002/58/EC Art. 13 (with GDPR consent rules).

Marketing e-mail to natural persons needs prior consent (an info finding: the message cannot show
it), an opt-out in every message, and a sender who is not disguised.
"""

from __future__ import annotations

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["check"]


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    if not ctx.is_marketing:
        return [finding("eu-transactional", Severity.OK, "ok", lang=ctx.lang)]
    means = signals.optout_means(msg) if signals.optout_wording(msg) else ""
    optout = (
        finding("eu-optout", Severity.OK, "ok", lang=ctx.lang, evidence=means, found=means)
        if means
        else finding("eu-optout", Severity.ERROR, "missing", lang=ctx.lang)
    )
    name = msg.from_display.strip() if "@" in msg.from_addr else ""
    sender = (
        finding(
            "eu-sender",
            Severity.OK,
            "ok",
            lang=ctx.lang,
            evidence=f"From: {name} <{msg.from_addr}>",
            found=name,
        )
        if name
        else finding("eu-sender", Severity.ERROR, "missing", lang=ctx.lang, evidence=f"From: {msg.from_addr}")
    )
    return [finding("eu-consent", Severity.INFO, "info", lang=ctx.lang), optout, sender]
