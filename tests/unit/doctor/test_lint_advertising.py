"""Advertising inside mail declared transactional."""

from __future__ import annotations

import pytest

from mailfate.doctor.compliance import lint_message
from mailfate.doctor.compliance.advertising import find_advertising
from mailfate.doctor.compliance.message import LintMessage
from mailfate.doctor.findings import Severity
from tests.unit.doctor.lint_samples import EN_BODY, make, verification_code


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Your receipt. Use coupon WINTER for 20% off your next order!", "coupon"),
        ("Order shipped. Shop now: https://x.example/sale", "shop now"),
        ("Free shipping on everything this week", "free shipping"),
        ("주문이 완료되었습니다. 겨울 이벤트 참여하세요", "이벤트"),
        ("결제 완료. 다음 구매 시 10% 할인", "할인"),
        ("ご注文ありがとうございます。クーポンをどうぞ", "クーポン"),
    ],
)
def test_promotional_phrases_are_found(text: str, phrase: str) -> None:
    assert phrase in find_advertising(LintMessage(subject="Receipt", text=text))


@pytest.mark.parametrize(
    "text",
    [
        "Your verification code is 482913. It expires in 10 minutes.",
        "회원가입 인증번호는 482913 입니다.",
        "Your password was changed on 2026-12-07. If this was not you, reset it at https://x.example/reset",
        "The wholesale order #12 has shipped.",
    ],
)
def test_plain_transactional_text_has_no_advertising(text: str) -> None:
    assert find_advertising(LintMessage(subject="Notice", text=text)) == ()


@pytest.mark.parametrize("country", ["US", "KR", "EU", "CA", "JP"])
def test_transactional_with_promotion_is_flagged_in_every_country(country: str) -> None:
    raw = make("Your receipt", "Thanks for your order #12.\nShop now and save 20% with coupon WINTER!\n")
    findings = {f.check: f for f in lint_message(raw, country=country, kind="transactional", lang="ko")}
    finding = findings["transactional-advertising"]
    assert finding.severity is Severity.WARNING
    assert "coupon" in finding.evidence and "shop now" in finding.evidence
    assert "정보통신망법" in finding.message
    assert finding.fix


def test_clean_transactional_gets_ok_and_marketing_gets_no_advertising_finding() -> None:
    ok = {f.check: f for f in lint_message(verification_code(), country="US", kind="transactional")}
    assert ok["transactional-advertising"].severity is Severity.OK
    marketing = lint_message(make("Sale", EN_BODY), country="US", kind="marketing")
    assert "transactional-advertising" not in {f.check for f in marketing}
