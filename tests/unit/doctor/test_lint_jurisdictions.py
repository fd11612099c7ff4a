"""CAN-SPAM (US), CASL (CA), ePrivacy (EU) and 特定電子メール法 (JP): a passing and a failing case each."""

from __future__ import annotations

import pytest

from mailfate.doctor.compliance import lint_message
from mailfate.doctor.findings import Finding, Severity
from tests.unit.doctor.lint_samples import EN_BODY, ONE_CLICK, make, verification_code

SENDER = "Mailfate News <news@mailfate.example>"
BARE = "Our new winter catalogue is out. Visit https://mailfate.example/shop\n"
JP_BODY = (
    "冬の新商品のご案内です。\n"
    "送信者: 株式会社メールフェイト 〒100-0001 東京都千代田区千代田1-1\n"
    "お問い合わせ: help@mailfate.example\n"
    "配信停止はこちら: https://mailfate.example/unsubscribe?u=abc\n"
)


def lint(raw: bytes, country: str, kind: str = "marketing", lang: str = "en") -> dict[str, Finding]:
    return {f.check: f for f in lint_message(raw, country=country, kind=kind, lang=lang)}


def marketing(
    body: str, *, subject: str = "Winter catalogue", from_header: str = SENDER, **kw: object
) -> bytes:
    return make(subject, body, from_header=from_header, headers=ONE_CLICK, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("country", ["US", "CA", "EU", "JP"])
def test_verification_code_passes_with_only_ok_findings(country: str) -> None:
    findings = lint_message(verification_code(), country=country, kind="transactional")
    assert findings
    assert all(f.severity is Severity.OK for f in findings), findings
    assert all(f.source for f in findings)


# ---------------------------------------------------------------- US
def test_us_compliant_ad_passes() -> None:
    findings = lint(marketing(EN_BODY), "US")
    for check in (
        "us-canspam-address",
        "us-canspam-optout",
        "us-canspam-ad",
        "us-canspam-subject",
        "us-canspam-from",
    ):
        assert findings[check].severity is Severity.OK, findings[check]
    assert "100 Main Street" in findings["us-canspam-address"].evidence
    assert "7704(a)(5)(A)(iii)" in findings["us-canspam-address"].source


def test_us_ad_without_address_opt_out_or_label_fails() -> None:
    findings = lint(marketing(BARE), "US")
    assert findings["us-canspam-address"].severity is Severity.ERROR
    assert findings["us-canspam-optout"].severity is Severity.ERROR
    assert findings["us-canspam-ad"].severity is Severity.WARNING
    assert "P.O. Box" in findings["us-canspam-address"].fix


def test_po_box_counts_as_postal_address() -> None:
    body = "Sale.\nMailfate, P.O. Box 1234, Springfield\nUnsubscribe: https://mailfate.example/unsubscribe\n"
    assert lint(marketing(body), "US")["us-canspam-address"].severity is Severity.OK


@pytest.mark.parametrize("kind", ["marketing", "transactional"])
def test_fake_reply_subject_is_flagged_for_every_kind(kind: str) -> None:
    findings = lint(marketing(EN_BODY, subject="RE: your account"), "US", kind)
    assert findings["us-canspam-subject"].details["outcome"] == "fake_reply"
    real = make("Re: your question", "Answer.\n", headers={"In-Reply-To": "<q@x>"}, from_header=SENDER)
    assert lint(real, "US", kind)["us-canspam-subject"].severity is Severity.OK


def test_from_display_posing_as_another_address_is_an_error() -> None:
    raw = marketing(EN_BODY, from_header='"security@bank.example" <promo@mailfate.example>')
    finding = lint(raw, "US", "transactional")["us-canspam-from"]
    assert (finding.severity, finding.details["outcome"]) == (Severity.ERROR, "spoofed")
    assert "security@bank.example" in finding.message


def test_missing_from_is_an_error() -> None:
    raw = b"Subject: hi\r\n\r\nhello\r\n"
    assert lint(raw, "US", "transactional")["us-canspam-from"].severity is Severity.ERROR


# ---------------------------------------------------------------- CA
def test_casl_compliant_message_passes_and_asks_for_consent() -> None:
    findings = lint(marketing(EN_BODY), "CA")
    for check in ("ca-casl-sender", "ca-casl-contact", "ca-casl-unsubscribe"):
        assert findings[check].severity is Severity.OK, findings[check]
    assert findings["ca-casl-consent"].severity is Severity.INFO
    assert "S.C. 2010, c. 23" in findings["ca-casl-consent"].source


def test_casl_message_without_identity_contact_or_unsubscribe_fails() -> None:
    raw = marketing("Big news inside.\n", from_header="news@mailfate.example")
    findings = lint(raw, "CA")
    assert findings["ca-casl-sender"].severity is Severity.ERROR
    assert findings["ca-casl-contact"].severity is Severity.ERROR
    assert "mailing address" in findings["ca-casl-contact"].message
    assert findings["ca-casl-unsubscribe"].severity is Severity.ERROR


def test_canadian_postal_code_counts_as_mailing_address() -> None:
    body = (
        "News.\nMailfate Ltd., Toronto ON M5V 3L9, help@mailfate.example\nUnsubscribe https://m.example/u\n"
    )
    assert lint(marketing(body), "CA")["ca-casl-contact"].severity is Severity.OK


# ---------------------------------------------------------------- EU
def test_eu_compliant_message_passes_with_consent_info() -> None:
    findings = lint(marketing(EN_BODY), "EU")
    assert findings["eu-optout"].severity is Severity.OK
    assert findings["eu-sender"].severity is Severity.OK
    assert findings["eu-consent"].severity is Severity.INFO
    assert "2002/58/EC" in findings["eu-optout"].source


def test_eu_message_without_opt_out_or_named_sender_fails() -> None:
    findings = lint(marketing(BARE, from_header="news@mailfate.example"), "EU", lang="ko")
    assert findings["eu-optout"].severity is Severity.ERROR
    assert findings["eu-sender"].severity is Severity.ERROR
    assert "수신" in findings["eu-optout"].message


# ---------------------------------------------------------------- JP
def test_jp_compliant_message_passes() -> None:
    findings = lint(marketing(JP_BODY, subject="冬の新商品"), "JP")
    assert findings["jp-sender"].severity is Severity.OK, findings["jp-sender"]
    assert findings["jp-optout"].severity is Severity.OK
    assert findings["jp-consent"].severity is Severity.INFO
    assert "第4条" in findings["jp-sender"].source


def test_jp_message_without_address_or_opt_out_fails() -> None:
    body = "冬の新商品のご案内です。株式会社メールフェイト\n"
    findings = lint(marketing(body, subject="冬の新商品"), "JP")
    assert findings["jp-sender"].severity is Severity.ERROR
    assert "postal address" in findings["jp-sender"].message
    assert findings["jp-optout"].severity is Severity.ERROR
