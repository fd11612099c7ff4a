"""Header analysis: Authentication-Results and ARC explained, spam verdicts, findings."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.doctor.findings import Severity
from mailfate.doctor.headers import HeaderReport, analyze_headers

FORWARDED = b"""\
ARC-Seal: i=2; a=rsa-sha256; t=1711990000; cv=pass; d=google.com; s=arc-20160816; b=abc
ARC-Authentication-Results: i=2; mx.google.com; dkim=pass header.i=@list.example header.s=s1;
 spf=pass (google.com: domain of list-bounces@list.example designates 198.51.100.7 as permitted sender)
 smtp.mailfrom=list-bounces@list.example; dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=shop.example
ARC-Seal: i=1; a=rsa-sha256; t=1711990000; cv=none; d=list.example; s=arc; b=abc
ARC-Authentication-Results: i=1; mx.list.example; spf=pass smtp.mailfrom=shop.example;
 dkim=pass header.d=shop.example header.s=k1
Authentication-Results: mx.google.com;
       dkim=pass header.i=@list.example header.s=s1 header.b=x;
       spf=softfail (google.com: domain of transitioning list-bounces@list.example does not designate
 198.51.100.7 as permitted sender) smtp.mailfrom=list-bounces@list.example;
       dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=shop.example;
       arc=pass (i=2 spf=pass spfdomain=list.example dkim=pass dkdomain=list.example dmarc=fail)
Received-SPF: softfail (google.com: domain of transitioning list-bounces@list.example does not designate
 198.51.100.7 as permitted sender) client-ip=198.51.100.7;
Received: from mx.list.example (mx.list.example. [198.51.100.7]) by mx.google.com with ESMTPS id q1
 for <bob@gmail.com>; Mon, 01 Apr 2024 10:00:02 +0000
Subject: =?UTF-8?B?7KO866y4IO2ZleyduA==?=
From: Shop <orders@shop.example>

x
"""


def _by(report: HeaderReport, method: str, header: str = "Authentication-Results") -> list[str]:
    return [a.explanation for a in report.authentication if a.method == method and a.header == header]


def test_softfail_dmarc_fail_explained_with_ip_domain_and_alignment() -> None:
    report = analyze_headers(FORWARDED)
    (spf,) = _by(report, "spf")
    assert spf.startswith("SPF softfail: 198.51.100.7 is not listed in the SPF record of list.example (~all)")
    assert "ip4:/ip6:198.51.100.7" in spf
    (dmarc,) = _by(report, "dmarc")
    assert "policy reject" in dmarc
    assert "d=list.example (not aligned)" in dmarc and "list.example (not aligned with shop.example)" in dmarc
    assert "sign with DKIM d=shop.example" in dmarc
    (received_spf,) = _by(report, "spf", "Received-SPF")
    assert "198.51.100.7" in received_spf and "list.example" in received_spf
    findings = {f.check: f for f in report.findings if f.check in {"spf", "dkim", "dmarc"}}
    assert findings["dmarc"].severity is Severity.ERROR and findings["dmarc"].fix.startswith("Sign with DKIM")
    assert findings["spf"].severity is Severity.WARNING and findings["spf"].source == "RFC 7208"
    assert findings["dkim"].severity is Severity.OK and findings["dkim"].fix == ""
    assert report.summary["Subject"] == "주문 확인"


def test_arc_sets_and_per_instance_results() -> None:
    report = analyze_headers(FORWARDED)
    assert [(a.instance, a.cv, a.domain) for a in report.arc] == [
        (1, "none", "list.example"),
        (2, "pass", "google.com"),
    ]
    instance1 = [a for a in report.authentication if a.instance == 1]
    assert {(a.method, a.result) for a in instance1} == {("spf", "pass"), ("dkim", "pass")}
    assert all(a.authserv_id == "mx.list.example" for a in instance1)
    arc = [f for f in report.findings if f.check == "arc"]
    assert {f.severity for f in arc} == {Severity.OK, Severity.INFO}


def test_arc_cv_fail_is_a_warning() -> None:
    raw = (
        b"ARC-Seal: i=2; a=rsa-sha256; cv=fail; d=fwd.example; s=a; b=x\n"
        b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=list.example; s=a; b=x\n"
        b"Authentication-Results: mx.example; arc=fail (signature failed)\n\nx\n"
    )
    report = analyze_headers(raw)
    arc = {f.severity: f.message for f in report.findings if f.check == "arc"}
    assert "broken" in arc[Severity.WARNING] and "cv=fail" in arc[Severity.WARNING]
    assert "ARC fail" in arc[Severity.ERROR]


def test_passing_message_and_dkim_fail_explanations() -> None:
    raw = (
        b"Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=bounce.shop.example;"
        b" dkim=pass header.d=shop.example header.s=s2048; dmarc=pass header.from=shop.example\n"
        b"Authentication-Results: other.example.net; dkim=fail (body hash did not verify)"
        b" header.d=shop.example header.s=s2048; spf=fail smtp.mailfrom=a@shop.example\n\nx\n"
    )
    report = analyze_headers(raw)
    top = [f for f in report.findings if f.check in {"spf", "dkim", "dmarc"}]
    assert [(f.check, f.severity) for f in top] == [
        ("spf", Severity.OK),
        ("dkim", Severity.OK),
        ("dmarc", Severity.OK),
    ]
    (dkim_fail,) = [a for a in report.authentication if a.method == "dkim" and a.result == "fail"]
    assert "s2048._domainkey.shop.example" in dkim_fail.explanation
    assert dkim_fail.comment == "body hash did not verify"
    (spf_fail,) = [a for a in report.authentication if a.method == "spf" and a.result == "fail"]
    assert "(-all)" in spf_fail.explanation and "shop.example" in spf_fail.explanation


def test_malformed_authentication_results_fall_back_to_the_tolerant_scan() -> None:
    raw = (
        b"Authentication-Results: mx.example; spf=pass smtp.mailfrom=a@b.example ;; "
        b"dkim=fail header.d=b.example @@\n\nx\n"
    )
    report = analyze_headers(raw)
    assert [(a.method, a.result) for a in report.authentication] == [("spf", "pass"), ("dkim", "fail")]
    assert report.authentication[1].properties["header.d"] == "b.example"


def test_no_authentication_results_is_an_info_finding() -> None:
    report = analyze_headers(b"Subject: x\n\nbody\n")
    assert any(
        f.severity is Severity.INFO and "No Authentication-Results" in f.message for f in report.findings
    )


def test_spamassassin_and_microsoft_headers() -> None:
    raw = (
        b"X-Spam-Status: No, score=1.2 required=5.0 tests=DKIM_SIGNED,\n"
        b"\tHTML_MESSAGE autolearn=ham version=3.4.6\n"
        b"X-Forefront-Antispam-Report: CIP:198.51.100.7;CTRY:US;LANG:en;SCL:1;SRV:BULK;IPV:NLI;SFV:NSPM;"
        b"CAT:BULK;DIR:INB;\n"
        b"X-Microsoft-Antispam: BCL:8;\n\nx\n"
    )
    sa, ms = analyze_headers(raw).spam
    assert (sa.verdict, sa.score, sa.threshold, sa.tests) == (
        "not spam",
        1.2,
        5.0,
        ["DKIM_SIGNED", "HTML_MESSAGE"],
    )
    assert ms.verdict == "bulk" and ms.score == 1.0
    assert "BCL 8" in ms.explanation and "CAT BULK: bulk mail" in ms.explanation
    spam = analyze_headers(b"X-Spam-Flag: YES\nX-Spam-Score: 9.5\nX-MS-Exchange-Organization-SCL: 9\n\nx\n")
    assert [(v.filter, v.verdict, v.score) for v in spam.spam] == [
        ("spamassassin", "spam", 9.5),
        ("microsoft", "spam", 9.0),
    ]
    assert [f.severity for f in spam.findings if f.check == "spam"] == [Severity.ERROR, Severity.ERROR]


def test_garbage_bytes_give_a_finding_not_a_crash() -> None:
    report = analyze_headers(b"\x00\xff\xfe\x80garbage without any header\r\n\r\n\xff")
    assert (
        report.findings[0].severity is Severity.ERROR and "does not look like" in report.findings[0].message
    )
    json.dumps(report.to_json(), ensure_ascii=False).encode()


def test_now_is_injected() -> None:
    raw = (
        b"Received: from a.example ([192.0.2.1]) by b.example with ESMTPS; "
        b"Mon, 1 Apr 2024 10:00:00 +0000\n\nx\n"
    )
    assert not [
        f
        for f in analyze_headers(raw, now=datetime(2024, 4, 2, tzinfo=UTC)).findings
        if "later than" in f.message
    ]
    future = analyze_headers(raw, now=datetime(2024, 3, 1, tzinfo=UTC))
    assert [f for f in future.findings if "later than now" in f.message]


_HEADER_NAMES = st.sampled_from(
    [
        "Received",
        "Authentication-Results",
        "ARC-Authentication-Results",
        "ARC-Seal",
        "Received-SPF",
        "X-Spam-Status",
        "X-Forefront-Antispam-Report",
        "X-Microsoft-Antispam",
        "Subject",
    ]
)
_PIECES = st.sampled_from(
    [
        "from",
        "by",
        "with",
        "id",
        "for",
        "(",
        ")",
        ";",
        "=",
        "spf",
        "pass",
        "dkim=",
        "i=",
        "cv=",
        "[",
        "]",
        "192.0.2.1",
        "TLSv1.3",
        "Mon, 1 Apr 2024 10:00:00 +0000",
        "=?UTF-8?B?",
        "?=",
        "SCL:",
        "score=",
        "\r\n ",
        "\xff",
        "\x00",
        "é",
    ]
)


@given(
    st.lists(
        st.tuples(_HEADER_NAMES, st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=20)), max_size=12
    ),
    st.binary(max_size=200),
)
@settings(max_examples=300, deadline=None)
def test_fuzz_analyze_headers_never_raises(headers: list[tuple[str, list[str]]], tail: bytes) -> None:
    raw = (
        b"".join(
            name.encode() + b": " + " ".join(parts).encode("utf-8", "surrogateescape") + b"\n"
            for name, parts in headers
        )
        + tail
    )
    started = time.perf_counter()
    report = analyze_headers(raw)
    json.dumps(report.to_json(), ensure_ascii=False).encode()
    assert time.perf_counter() - started < 1.0


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_fuzz_random_bytes(raw: bytes) -> None:
    json.dumps(analyze_headers(raw).to_json(), ensure_ascii=False).encode()


def test_huge_hostile_headers_finish_quickly() -> None:
    raw = (
        b"X-Spam-Status: Yes, tests=" + b" " * 300_000 + b"x\n"
        b"Authentication-Results: mx.example; " + b"(" * 100_000 + b"spf=pass\n"
        b"Received: from " + b"(" * 200_000 + b"; Mon, 1 Apr 2024 10:00:00 +0000\n"
        b"X-Forefront-Antispam-Report: " + b"SCL:1;" * 50_000 + b"\n\nx\n"
    )
    started = time.perf_counter()
    report = analyze_headers(raw)
    assert time.perf_counter() - started < 2.0
    assert report.spam and report.spam[0].verdict == "spam"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            "spf=pass smtp.mailfrom=b.example",
            "SPF pass: 203.0.113.5 is permitted by the SPF record of b.example.",
        ),
        (
            "spf=fail smtp.mailfrom=b.example",
            "SPF fail: 203.0.113.5 is not listed in the SPF record of b.example (-all)",
        ),
        ("spf=neutral smtp.mailfrom=b.example", "makes no statement about 203.0.113.5 (?all)"),
        ("spf=none smtp.mailfrom=b.example", 'no SPF record for b.example — publish "v=spf1'),
        ("spf=permerror smtp.mailfrom=b.example", "more than 10 DNS lookups"),
        ("dkim=none", "DKIM none: the message is not signed"),
        ("dkim=permerror header.d=b.example header.s=k", "publish the key at k._domainkey.b.example"),
        ("dmarc=none header.from=b.example", "publish _dmarc.b.example TXT"),
        ("dmarc=pass header.from=b.example", "DMARC pass: the From domain b.example is aligned"),
    ],
)
def test_explanations_use_the_ip_of_the_hop_that_delivered(result: str, expected: str) -> None:
    raw = (
        f"Authentication-Results: mx.c.example; {result}\n"
        "Received: from out.b.example (out.b.example [203.0.113.5]) by mx.c.example with ESMTPS id 1;"
        " Mon, 1 Apr 2024 10:00:00 +0000\n\nx\n"
    ).encode()
    (auth,) = analyze_headers(raw).authentication
    assert expected in auth.explanation


def test_dmarc_fail_with_aligned_relaxed_dkim_subdomain() -> None:
    raw = (
        b"Authentication-Results: mx.c.example; dkim=pass header.d=mail.shop.example header.s=s;"
        b" spf=fail smtp.mailfrom=bounce@esp.example; dmarc=fail header.from=shop.example\n\nx\n"
    )
    dmarc = next(a for a in analyze_headers(raw).authentication if a.method == "dmarc")
    assert "d=mail.shop.example (aligned)" in dmarc.explanation
    assert "esp.example (not aligned with shop.example)" in dmarc.explanation


def test_broken_base64_encoded_word_in_subject_is_kept_raw() -> None:
    # Found by hypothesis: email.header raises HeaderParseError (not a ValueError) on bad base64.
    report = analyze_headers(b"Subject: =?UTF-8?B? by ?=\r\n\r\nbody\r\n")
    assert report.to_json()["summary"]["Subject"] == "=?UTF-8?B? by ?="
