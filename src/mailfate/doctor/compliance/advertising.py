"""Advertising inside mail declared transactional: coupons, discounts, 할인, 이벤트, "shop now".

A receipt or a verification code with a promotion block stops being purely transactional: Korea's
정보통신망법 §50 then treats it as 광고성 정보 and CAN-SPAM's primary purpose test (16 CFR 316.3) may
make it commercial.
"""

from __future__ import annotations

import re

from mailfate.doctor.compliance.catalog import finding
from mailfate.doctor.compliance.context import LintContext
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Finding, Severity

__all__ = ["check", "find_advertising"]

_PHRASES = re.compile(
    r"\bcoupons?\b|\bdiscounts?\b|\d{1,2}\s?%\s?off\b|\bon\s+sale\b|\bsale\s+ends\b|\bflash\s+sale\b"
    r"|\bpromo(?:tion)?\s*codes?\b|\bpromotions?\b|\bshop\s+now\b|\bbuy\s+now\b|\border\s+now\b"
    r"|\blimited[\s-]time\s+offer\b|\bfree\s+shipping\b|\bspecial\s+offer\b|\bexclusive\s+offer\b"
    r"|\bsave\s+(?:up\s+to\s+)?(?:\$|€|£)?\d+"
    r"|할인|쿠폰|이벤트|특가|세일|프로모션|무료\s?배송|사은품|기획전|적립금\s?(?:증정|지급)|지금\s?구매|한정\s?판매"
    r"|クーポン|割引|セール|キャンペーン|今すぐ購入",
    re.IGNORECASE,
)
_MAX_SHOWN = 5


def find_advertising(msg: LintMessage) -> tuple[str, ...]:
    """The distinct promotional phrases in the subject and body, in order of appearance."""
    found = (" ".join(m.group(0).split()) for m in _PHRASES.finditer(msg.subject + "\n" + msg.text))
    return tuple(dict.fromkeys(p.lower() for p in found))


def check(msg: LintMessage, ctx: LintContext) -> list[Finding]:
    """Flag advertising in mail declared transactional (nothing to say about marketing mail)."""
    if ctx.is_marketing:
        return []
    if not ctx.advertising:
        return [finding("transactional-advertising", Severity.OK, "ok", lang=ctx.lang)]
    shown = ", ".join(ctx.advertising[:_MAX_SHOWN])
    return [
        finding(
            "transactional-advertising",
            Severity.WARNING,
            "found",
            lang=ctx.lang,
            evidence=shown,
            found=shown,
        )
    ]
