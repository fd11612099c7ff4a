"""Bulk-sender rules: List-Unsubscribe (RFC 2369), one-click (RFC 8058), visible body link."""

from __future__ import annotations

import pytest

from mailfate.doctor.compliance import lint_message
from mailfate.doctor.compliance.bulk import parse_list_unsubscribe
from mailfate.doctor.findings import Finding, Severity
from tests.unit.doctor.lint_samples import EN_BODY, make, verification_code

HTTPS = "<https://mailfate.example/u/abc>"
MAILTO = "<mailto:unsubscribe@mailfate.example?subject=unsubscribe>"
POST = "List-Unsubscribe=One-Click"


def lint(headers: dict[str, str], body: str = EN_BODY) -> dict[str, Finding]:
    raw = make("Winter", body, from_header="Mailfate <news@mailfate.example>", headers=headers)
    return {f.check: f for f in lint_message(raw, country="US", kind="marketing")}


def test_https_and_one_click_post_pass() -> None:
    findings = lint({"List-Unsubscribe": f"{MAILTO}, {HTTPS}", "List-Unsubscribe-Post": POST})
    assert findings["list-unsubscribe"].severity is Severity.OK
    assert findings["rfc8058"].severity is Severity.OK
    assert "https://mailfate.example/u/abc" in findings["rfc8058"].message
    assert findings["bulk-body-unsubscribe"].severity is Severity.OK


def test_missing_header_is_an_error_with_the_header_to_add() -> None:
    finding = lint({})["list-unsubscribe"]
    assert finding.severity is Severity.ERROR
    assert "List-Unsubscribe: <https://mailfate.example/unsubscribe/TOKEN>" in finding.fix
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in finding.fix


def test_mailto_only_is_a_warning() -> None:
    finding = lint({"List-Unsubscribe": MAILTO, "List-Unsubscribe-Post": POST})["rfc8058"]
    assert (finding.severity, finding.details["outcome"]) == (Severity.WARNING, "mailto_only")


def test_https_without_post_header_is_an_error() -> None:
    finding = lint({"List-Unsubscribe": HTTPS})["rfc8058"]
    assert (finding.severity, finding.details["outcome"]) == (Severity.ERROR, "no_post")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in finding.fix


def test_wrong_post_value_is_an_error() -> None:
    finding = lint({"List-Unsubscribe": HTTPS, "List-Unsubscribe-Post": "One-Click"})["rfc8058"]
    assert finding.details["outcome"] == "bad_post"


def test_plain_http_uri_with_post_is_an_error() -> None:
    finding = lint({"List-Unsubscribe": "<http://mailfate.example/u>", "List-Unsubscribe-Post": POST})[
        "rfc8058"
    ]
    assert (finding.severity, finding.details["outcome"]) == (Severity.ERROR, "no_https")


def test_uri_without_angle_brackets_is_malformed() -> None:
    findings = lint({"List-Unsubscribe": "https://mailfate.example/u", "List-Unsubscribe-Post": POST})
    assert findings["list-unsubscribe"].details["outcome"] == "malformed"
    assert findings["list-unsubscribe"].severity is Severity.WARNING
    assert findings["rfc8058"].severity is Severity.OK
    assert lint({"List-Unsubscribe": "call us"})["list-unsubscribe"].severity is Severity.ERROR


def test_no_visible_unsubscribe_link_in_body_is_a_warning() -> None:
    findings = lint({"List-Unsubscribe": HTTPS, "List-Unsubscribe-Post": POST}, body="News only.\n")
    assert findings["bulk-body-unsubscribe"].severity is Severity.WARNING


def test_transactional_mail_is_exempt() -> None:
    findings = {f.check: f for f in lint_message(verification_code(), country="US", kind="transactional")}
    assert findings["bulk-transactional"].severity is Severity.OK
    assert "rfc8058" not in findings and "list-unsubscribe" not in findings


@pytest.mark.parametrize(
    ("value", "https", "mailto"),
    [
        (f"{MAILTO}, {HTTPS}", 1, 1),
        (f"{HTTPS},{HTTPS}", 2, 0),
        ("< https://a.example/u >", 1, 0),
        ("", 0, 0),
    ],
)
def test_parse_list_unsubscribe(value: str, https: int, mailto: int) -> None:
    header = parse_list_unsubscribe(value)
    assert (len(header.https), len(header.mailto)) == (https, mailto)


@pytest.mark.parametrize(
    ("signature", "severity"),
    [
        (None, Severity.INFO),
        ("v=1; a=rsa-sha256; d=mailfate.example; s=s1; h=From:To:Subject; bh=x; b=y", Severity.WARNING),
        (
            "v=1; a=rsa-sha256; d=mailfate.example; s=s1;\r\n h=From:Subject:List-Unsubscribe:\r\n"
            " List-Unsubscribe-Post; bh=x; b=y",
            Severity.OK,
        ),
    ],
)
def test_dkim_must_cover_both_unsubscribe_headers(signature: str | None, severity: Severity) -> None:
    headers = {"List-Unsubscribe": HTTPS, "List-Unsubscribe-Post": POST}
    if signature is not None:
        headers["DKIM-Signature"] = signature
    assert lint(headers)["rfc8058-dkim"].severity is severity
