"""United States: CAN-SPAM (15 U.S.C. 7701–7713; 16 CFR part 316).

Commercial mail needs a valid physical postal address, a clear opt-out and identification as an
advertisement (unless the recipient gave affirmative consent). Every message, transactional too, must
have accurate header information and a subject that does not mislead.
"""

from __future__ import annotations

import re

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["check", "from_finding", "subject_finding"]

_FAKE_REPLY = re.compile(r"^\s*(re|fwd?|aw|wg|답장|회신|전달)\s*:", re.IGNORECASE)
_ADDRESS_IN_NAME = re.compile(r"[\w.+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def subject_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    evidence = f"Subject: {msg.subject}"
    if not msg.subject.strip():
        return finding("us-canspam-subject", Severity.WARNING, "empty", lang=ctx.lang, evidence=evidence)
    fake = _FAKE_REPLY.match(msg.subject)
    if fake and not msg.is_reply:
        found = fake.group(0).strip()
        return finding(
            "us-canspam-subject",
            Severity.WARNING,
            "fake_reply",
            lang=ctx.lang,
            evidence=evidence,
            found=found,
        )
    return finding("us-canspam-subject", Severity.OK, "ok", lang=ctx.lang, evidence=evidence)


def from_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    if "@" not in msg.from_addr:
        return finding("us-canspam-from", Severity.ERROR, "missing", lang=ctx.lang, evidence="From: (none)")
    shown = f"{msg.from_display} <{msg.from_addr}>" if msg.from_display else msg.from_addr
    evidence = f"From: {shown}"
    in_name = _ADDRESS_IN_NAME.search(msg.from_display)
    if in_name and in_name.group(1).lower() != msg.from_domain:
        return finding(
            "us-canspam-from",
            Severity.ERROR,
            "spoofed",
            lang=ctx.lang,
            evidence=evidence,
            found=in_name.group(0),
            addr=msg.from_addr,
        )
    return finding("us-canspam-from", Severity.OK, "ok", lang=ctx.lang, evidence=evidence, found=shown)


def _present(check: str, value: str, severity: Severity, ctx: LintContext) -> Finding:
    if value:
        return finding(check, Severity.OK, "ok", lang=ctx.lang, evidence=value, found=value)
    return finding(check, severity, "missing", lang=ctx.lang)


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    findings = [from_finding(msg, ctx), subject_finding(msg, ctx)]
    if not ctx.is_marketing:
        findings.append(finding("us-canspam-transactional", Severity.OK, "ok", lang=ctx.lang))
        return findings
    means = signals.optout_means(msg) if signals.optout_wording(msg) else ""
    optout = f"{signals.optout_wording(msg)} → {means}" if means else ""
    findings += [
        _present("us-canspam-address", signals.postal_address(msg), Severity.ERROR, ctx),
        _present("us-canspam-optout", optout, Severity.ERROR, ctx),
        # Not required with prior affirmative consent (7704(a)(5)(B)), which the message cannot show.
        _present("us-canspam-ad", signals.ad_label(msg), Severity.WARNING, ctx),
    ]
    return findings
