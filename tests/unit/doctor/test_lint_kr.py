"""Korea: 정보통신망법 §50 — (광고) subject, sender and contact, free 수신거부, 21:00–08:00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailfate.doctor.compliance import lint_message
from mailfate.doctor.findings import Finding, Severity
from tests.unit.doctor.lint_samples import KR_BODY, NIGHT, ONE_CLICK, make, verification_code

KST = timezone(timedelta(hours=9))
ADDRESS = "서울특별시 강남구 테헤란로 123\n"


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def lint_kr(raw: bytes, **kw: object) -> dict[str, Finding]:
    return by_check(lint_message(raw, country="KR", kind="marketing", **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("charset", ["utf-8", "euc-kr", "iso-2022-kr"])
def test_compliant_korean_ad_passes_every_rule(charset: str) -> None:
    raw = make(
        "(광고) 겨울 신상품 안내",
        KR_BODY,
        charset=charset,
        cte="7bit" if "2022" in charset else "base64",
        headers=ONE_CLICK,
    )
    findings = lint_kr(raw)
    for check in ("kr-50-subject", "kr-50-sender", "kr-50-unsubscribe", "kr-50-night", "rfc8058"):
        assert findings[check].severity is Severity.OK, findings[check]
    assert "정보통신망법" in findings["kr-50-subject"].source
    assert "02-1234-5678" in findings["kr-50-sender"].evidence


@pytest.mark.parametrize(
    ("subject", "outcome", "found"),
    [
        ("[광고] 겨울 신상품", "variant", "[광고]"),
        ("(광 고) 겨울 신상품", "variant", "(광 고)"),
        ("광고) 겨울 신상품", "variant", "광고)"),
        ("（광고） 겨울 신상품", "variant", "（광고）"),
        ("겨울 신상품 (광고)", "not_first", ""),
        ("[메일페이트] (광고) 겨울 신상품", "not_first", ""),
        ("겨울 신상품 안내", "missing", ""),
    ],
)
def test_subject_label_mistakes_are_errors(subject: str, outcome: str, found: str) -> None:
    finding = lint_kr(make(subject, KR_BODY))["kr-50-subject"]
    assert finding.severity is Severity.ERROR
    assert finding.details["outcome"] == outcome
    assert found in finding.message
    assert "(광고)" in finding.fix


def test_missing_sender_and_contact_is_an_error_naming_what_is_missing() -> None:
    body = (
        "겨울 신상품이 나왔습니다.\n수신을 원하지 않으시면 무료 수신거부: https://mailfate.kr/unsubscribe\n"
    )
    finding = lint_kr(make("(광고) 겨울", body), lang="ko")["kr-50-sender"]
    assert finding.severity is Severity.ERROR
    assert "전송자 명칭" in finding.message and "전화번호" in finding.message
    assert finding.fix.startswith("본문 하단에")


def test_name_and_phone_without_address_is_a_warning() -> None:
    body = (
        "보낸 사람: 주식회사 메일페이트 전화 02-1234-5678\n무료 수신거부: https://mailfate.kr/unsubscribe\n"
    )
    finding = lint_kr(make("(광고) 겨울", body))["kr-50-sender"]
    assert finding.severity is Severity.WARNING
    assert "postal address" in finding.message and "e-mail" in finding.message


def test_no_opt_out_is_an_error() -> None:
    body = "보낸 사람: 주식회사 메일페이트 | 전화 02-1234-5678 | help@mailfate.kr\n" + ADDRESS
    finding = lint_kr(make("(광고) 겨울", body))["kr-50-unsubscribe"]
    assert (finding.severity, finding.details["outcome"]) == (Severity.ERROR, "missing")


def test_opt_out_wording_without_any_means_is_an_error() -> None:
    body = "보낸 사람: 주식회사 메일페이트 | 전화 02-1234-5678\n" + ADDRESS + "무료 수신거부 가능합니다.\n"
    finding = lint_kr(make("(광고) 겨울", body))["kr-50-unsubscribe"]
    assert finding.details["outcome"] == "no_means"


def test_opt_out_not_stated_free_is_a_warning() -> None:
    body = KR_BODY.replace("무료 ", "")
    finding = lint_kr(make("(광고) 겨울", body))["kr-50-unsubscribe"]
    assert (finding.severity, finding.details["outcome"]) == (Severity.WARNING, "not_free")


def test_html_unsubscribe_link_counts() -> None:
    html = (
        "<p>겨울 신상품</p><footer>주식회사 메일페이트 · 02-1234-5678 · help@mailfate.kr · "
        "서울특별시 강남구 테헤란로 123<br>메일 수신을 원하지 않으시면 "
        "<a href='https://mailfate.kr/r?t=1'>무료 수신거부</a></footer>"
    )
    findings = lint_kr(make("(광고) 겨울", html, html=True, charset="euc-kr"))
    assert findings["kr-50-unsubscribe"].severity is Severity.OK
    assert "https://mailfate.kr/r?t=1" in findings["kr-50-unsubscribe"].evidence


@pytest.mark.parametrize(
    ("send_at", "night"),
    [
        (datetime(2026, 12, 7, 20, 59, tzinfo=KST), False),
        (datetime(2026, 12, 7, 21, 0, tzinfo=KST), True),
        (datetime(2026, 12, 8, 7, 59, tzinfo=KST), True),
        (datetime(2026, 12, 8, 8, 0, tzinfo=KST), False),
        (datetime(2026, 12, 7, 13, 30, tzinfo=UTC), True),  # 22:30 KST
        (datetime(2026, 12, 7, 1, 0, tzinfo=UTC), False),  # 10:00 KST
    ],
)
def test_night_window_is_judged_in_kst(send_at: datetime, night: bool) -> None:
    finding = lint_kr(make("(광고) 겨울", KR_BODY), send_at=send_at)["kr-50-night"]
    assert finding.severity is (Severity.WARNING if night else Severity.OK)
    assert "send_at" in finding.evidence


def test_night_window_falls_back_to_the_date_header() -> None:
    finding = lint_kr(make("(광고) 겨울", KR_BODY, date=NIGHT))["kr-50-night"]
    assert finding.severity is Severity.WARNING
    assert "22:30" in finding.message and "Date header" in finding.evidence


def test_no_time_at_all_is_info() -> None:
    raw = make("(광고) 겨울", KR_BODY, date="not a date")
    assert lint_kr(raw)["kr-50-night"].severity is Severity.INFO


def test_korean_messages_keep_citations_and_english_keeps_korean_rule_names() -> None:
    raw = make("[광고] 겨울", KR_BODY)
    ko = lint_kr(raw, lang="ko")["kr-50-subject"]
    en = lint_kr(raw, lang="en")["kr-50-subject"]
    assert "제목" in ko.message and "제50조" in ko.message
    assert "(광고)" in en.message and "subject" in en.message.lower()
    assert ko.source == en.source
    assert en.details["rule"] == "(광고) 표시"


def test_verification_code_is_not_advertising_and_gets_no_error() -> None:
    findings = lint_message(verification_code("ko"), country="KR", kind="transactional", lang="ko")
    assert {f.severity for f in findings} == {Severity.OK}
    assert "kr-50-subject" not in by_check(findings)


def test_transactional_mail_with_coupons_is_judged_as_advertising() -> None:
    body = "주문이 완료되었습니다. 주문번호 1234.\n\n이번 주 특가! 20% 할인 쿠폰을 드려요.\n"
    findings = by_check(lint_message(make("주문 완료 안내", body), country="KR", kind="transactional"))
    assert findings["transactional-advertising"].severity is Severity.WARNING
    assert "할인" in findings["transactional-advertising"].evidence
    assert findings["kr-50-subject"].severity is Severity.ERROR
    assert findings["kr-50-unsubscribe"].severity is Severity.ERROR


def test_transactional_mail_labelled_as_ad_is_a_warning() -> None:
    raw = make("(광고) 인증번호 안내", "인증번호는 482913 입니다.\n")
    finding = by_check(lint_message(raw, country="KR", kind="transactional"))["kr-50-transactional"]
    assert finding.severity is Severity.WARNING
