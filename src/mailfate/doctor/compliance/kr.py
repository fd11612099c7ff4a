"""Korea: 정보통신망 이용촉진 및 정보보호 등에 관한 법률 §50 and its Enforcement Decree (advertising mail).

Advertising (declared marketing, or transactional mail that carries advertising) must start its
subject with exactly "(광고)", state the sender's name and contact, and explain the free opt-out
(수신거부); sending between 21:00 and 08:00 KST needs separate consent (§50③, see the decree's
exemption noted in the finding).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from mailfate.doctor.compliance import signals
from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["KST", "check"]

KST = timezone(timedelta(hours=9), "KST")  # no daylight saving since 1988
_LABEL = "(광고)"
_NIGHT_START, _NIGHT_END = 21, 8
# "[광고]", "(광 고)", "（광고）", "<광고>", "【광고】", "광고)", "광고:" — anything but the exact label.
_VARIANT = re.compile(
    r"[\[\(（【<〈{]\s*광\s*고\s*[\]\)）】>〉}]|(?<![\(（\s광])\s*광\s*고\s*[\)\]）】]|^\s*광\s*고\s*[:：\-]"
)
_ITEMS_EN = {"name": "sender name", "phone": "phone", "email": "e-mail", "address": "postal address"}
_ITEMS_KO = {"name": "전송자 명칭", "phone": "전화번호", "email": "이메일", "address": "주소"}


def subject_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    subject = msg.subject
    evidence = f"Subject: {subject}"
    if subject.startswith(_LABEL):
        return finding("kr-50-subject", Severity.OK, "ok", lang=ctx.lang, evidence=evidence)
    if _LABEL in subject:
        return finding(
            "kr-50-subject", Severity.ERROR, "not_first", lang=ctx.lang, evidence=evidence, subject=subject
        )
    variant = _VARIANT.search(subject)
    if variant:
        found = variant.group(0).strip()
        return finding(
            "kr-50-subject", Severity.ERROR, "variant", lang=ctx.lang, evidence=evidence, found=found
        )
    return finding(
        "kr-50-subject", Severity.ERROR, "missing", lang=ctx.lang, evidence=evidence, subject=subject
    )


def sender_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    found = {
        "name": signals.company_name(msg),
        "phone": signals.phone(msg),
        "email": signals.email_address(msg),
        "address": signals.postal_address(msg),
    }
    names = _ITEMS_KO if ctx.lang == "ko" else _ITEMS_EN
    missing = [names[key] for key, value in found.items() if not value]
    shown = ", ".join(f"{names[key]}={value}" for key, value in found.items() if value)
    evidence = shown or "(nothing found in the body)"
    if not missing:
        return finding("kr-50-sender", Severity.OK, "ok", lang=ctx.lang, evidence=evidence, found=shown)
    contact = found["phone"] or found["email"] or found["address"]
    severity = Severity.ERROR if not found["name"] or not contact else Severity.WARNING
    return finding(
        "kr-50-sender", severity, "missing", lang=ctx.lang, evidence=evidence, missing=", ".join(missing)
    )


def unsubscribe_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    wording = signals.optout_wording(msg)
    if not wording:
        return finding("kr-50-unsubscribe", Severity.ERROR, "missing", lang=ctx.lang)
    means = signals.optout_means(msg)
    if not means:
        return finding("kr-50-unsubscribe", Severity.ERROR, "no_means", lang=ctx.lang, evidence=wording)
    evidence = f"{wording} → {means}"
    free = signals.free_optout(msg)
    if not free:
        return finding("kr-50-unsubscribe", Severity.WARNING, "not_free", lang=ctx.lang, evidence=evidence)
    return finding(
        "kr-50-unsubscribe", Severity.OK, "ok", lang=ctx.lang, evidence=f"{free}; {evidence}", found=evidence
    )


def night_finding(msg: LintMessage, ctx: LintContext) -> Finding:
    when: datetime | None = ctx.send_at or msg.date
    if when is None:
        return finding("kr-50-night", Severity.INFO, "unknown", lang=ctx.lang)
    local = when.astimezone(KST)
    origin = "send_at" if ctx.send_at is not None else "Date header"
    shown = local.strftime("%Y-%m-%d %H:%M")
    evidence = f"{origin}: {when.isoformat()} = {shown} KST"
    if local.hour >= _NIGHT_START or local.hour < _NIGHT_END:
        return finding(
            "kr-50-night", Severity.WARNING, "night", lang=ctx.lang, evidence=evidence, local=shown
        )
    return finding("kr-50-night", Severity.OK, "ok", lang=ctx.lang, evidence=evidence, local=shown)


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    """§50 findings: the advertising rules when the message is (or carries) advertising."""
    if not ctx.carries_advertising:
        if msg.subject.startswith(_LABEL):
            evidence = f"Subject: {msg.subject}"
            return [
                finding("kr-50-transactional", Severity.WARNING, "labelled", lang=ctx.lang, evidence=evidence)
            ]
        return [finding("kr-50-transactional", Severity.OK, "ok", lang=ctx.lang)]
    return [
        subject_finding(msg, ctx),
        sender_finding(msg, ctx),
        unsubscribe_finding(msg, ctx),
        night_finding(msg, ctx),
    ]
