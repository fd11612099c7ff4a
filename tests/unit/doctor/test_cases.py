"""``mailfate report`` per case: what each fate and each cause gets (a statement, advice, a fix of
ours or a letter with one question), decided from the events' reason, cause and reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailfate.doctor.cases import decide, reply_auth
from mailfate.doctor.findings import Finding, Severity
from mailfate.doctor.inquiry import Attempt, Inquiry
from mailfate.doctor.inquiry_text import render

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def attempt(  # noqa: PLR0917 - one attempt per line in the tests
    reply: str, reason: str, cause: str = "", outcome: str = "deferred", minutes: int = 0,
    address: str = "kim@corp.test", transport: str = "direct", kind: str = "attempt",
) -> Attempt:  # fmt: skip
    code, status, text = reply.split(" ", 2)
    return Attempt(
        T0 + timedelta(minutes=minutes), "m1", "<1@app.test>", address, kind, outcome, int(code), status,
        text, "mx1.corp.test", "192.0.2.25", "", reason, cause, transport,
    )  # fmt: skip


def inquiry(*attempts: Attempt, fates: dict[str, str] | None = None, **kw: object) -> Inquiry:
    recipients = fates or {a.address: "expired" for a in attempts}
    inq = Inquiry("domain", "corp.test", ["app.test"], list(attempts), recipients)
    for key, value in kw.items():
        setattr(inq, key, value)
    return inq


def clean_dns() -> list[Finding]:
    return [
        Finding(
            "spf", Severity.OK, "app.test has one valid SPF record", evidence='app.test TXT "v=spf1 -all"'
        ),
        Finding("dmarc", Severity.OK, "DMARC policy p=reject at _dmarc.app.test"),
    ]


GREY = "451 4.7.1 Greylisted, please try again later"
BLOCK = "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"
RATE = "421 4.7.28 Our system has detected an unusual rate of unsolicited mail"
DMARC = "550 5.7.26 Unauthenticated email is not accepted due to the sender domain's DMARC policy"


@pytest.mark.parametrize(
    ("reply", "reason", "cause", "topic", "question"),
    [
        (BLOCK, "blocked", "ip-blocklisted", "block", "Do your servers block mail from app.test"),
        (GREY, "greylisting", "greylisted", "greylist", "greylisted our mail and never accepted a retry"),
        (RATE, "speeding", "rate-limited", "rate", "What rate (messages or connections per minute)"),
        (DMARC, "authfailure", "dmarc-policy", "auth", "Which check fails on your side"),
        ("550 5.0.0 Sorry", "undefined", "", "other", "Could you tell us why"),
    ],
)
def test_a_letter_asks_exactly_what_the_replies_call_for(
    reply: str, reason: str, cause: str, topic: str, question: str
) -> None:
    inq = inquiry(
        attempt(reply, reason, cause), attempt(reply, reason, cause, minutes=30), auth=clean_dns(),
        envelope_domain="bounces.app.test",
    )  # fmt: skip
    case = decide(inq)
    assert (case.kind, case.topic) == ("ask", topic)
    text = render(inq, lang="en", fmt="md")
    assert question in text
    assert f"> `{reply}`" in text and "mx1.corp.test (192.0.2.25) answered on 2026-03-02 09:30:00 UTC" in text
    others = {"block mail from", "greylisted our mail", "What rate", "Which check fails", "tell us why"}
    assert not [q for q in others if q in text and q not in question]  # one question, not another's
    assert "MAIL FROM (VERP) bounces.app.test aligns with From app.test" in text


def test_greylisting_before_the_deadline_is_no_letter_yet() -> None:
    inq = inquiry(attempt(GREY, "greylisting", "greylisted"), fates={"kim@corp.test": "deferred"})
    assert decide(inq).kind == "pending"
    text = render(inq, lang="en", fmt="md")
    assert text.startswith("# Still being retried") and "Our question" not in text


@pytest.mark.parametrize(
    ("reply", "reason", "cause", "kind"),
    [
        ("550 5.1.1 User unknown", "userunknown", "mailbox-unknown", "dead"),
        ("550 5.2.1 Mailbox disabled for this recipient", "suspend", "mailbox-disabled", "dead"),
        ("552 5.2.2 Mailbox full", "mailboxfull", "mailbox-full", "recipient"),
        ("504 5.5.2 Helo command rejected: need fully-qualified hostname", "blocked", "helo-invalid", "ours"),
        ("554 5.7.1 Relay access denied", "norelaying", "relay-denied", "ours"),
    ],
)
def test_no_letter_for_what_the_postmaster_cannot_change(
    reply: str, reason: str, cause: str, kind: str
) -> None:
    inq = inquiry(attempt(reply, reason, cause, outcome="bounced"), fates={"kim@corp.test": "bounced"})
    assert decide(inq).kind == kind
    text = render(inq, lang="en", fmt="md")
    assert "Our question" not in text and "stricter rules" not in text
    if kind == "dead":
        assert text.startswith("# Remove the address: kim@corp.test")
    if kind == "ours":
        assert f"{cause} — " in text  # what the cause means, as the fix


def test_the_receivers_own_verdict_on_our_authentication_is_ours_to_fix_first() -> None:
    """A block that quotes "spf=none dkim=none" is our fix first, with the records, even with our
    DNS unchecked; SPF is for the envelope domain, and a misaligned envelope domain is fixed too."""
    reply = (
        "550 5.7.1 Rejected by policy (spf=none smtp.mailfrom=bounces.mailfate.test; dkim=none; dmarc=fail)"
    )
    inq = inquiry(
        attempt(reply, "blocked", "policy"), envelope_domain="bounces.mailfate.test", ips=["192.0.2.7"]
    )
    assert reply_auth(inq.attempts) == {"spf": "none", "dkim": "none", "dmarc": "fail"}
    case = decide(inq)
    assert case.kind == "ours" and [f.what for f in case.fixes] == ["align", "spf", "dkim"]
    assert case.alignment is not None and not case.alignment.aligned
    text = render(inq, lang="en", fmt="md")
    assert 'bounces.app.test. TXT "v=spf1 ip4:192.0.2.7 -all"' in text
    assert '[verp] domain = "bounces.app.test"' in text
    assert "does not align with From app.test (mailfate.test ≠ app.test)" in text
    assert "Our question" not in text


def test_an_authentication_refusal_with_our_dns_unchecked_says_check_it_first() -> None:
    inq = inquiry(attempt(DMARC, "authfailure", "dmarc-policy"), envelope_domain="bounces.app.test")
    case = decide(inq)
    assert case.kind == "ours" and [f.what for f in case.fixes] == ["dns_unchecked"]
    assert "run this report without --no-dns" in render(inq, lang="en", fmt="md")


def test_an_error_in_our_dns_stops_any_letter() -> None:
    broken = [
        Finding(
            "dmarc",
            Severity.ERROR,
            "No DMARC record at _dmarc.app.test",
            fix='_dmarc.app.test. TXT "v=DMARC1; p=none"',
        )
    ]
    inq = inquiry(attempt(BLOCK, "blocked", "ip-blocklisted"), auth=broken)
    case = decide(inq)
    assert case.kind == "ours" and not case.checked_clean
    text = render(inq, lang="ko", fmt="md")
    assert text.startswith("# 당사 설정부터 수정") and '_dmarc.app.test. TXT "v=DMARC1; p=none"' in text
    assert "문의 사항" not in text


def test_a_receiving_domain_asks_about_the_block_and_sets_dead_addresses_aside() -> None:
    inq = inquiry(
        attempt("550 5.1.1 User unknown", "userunknown", "", "bounced", address="old@corp.test"),
        attempt(BLOCK, "blocked", "ip-blocklisted", minutes=5),
        fates={"old@corp.test": "bounced", "kim@corp.test": "expired"}, auth=clean_dns(),
    )  # fmt: skip
    case = decide(inq)
    assert (case.kind, case.topic) == ("ask", "block") and [a.address for a in case.dead] == ["old@corp.test"]
    text = render(inq, lang="en", fmt="md")
    assert "(1 of these recipient(s) were refused as addresses that do not exist" in text
    assert "> `550 5.1.1 User unknown`" not in text.split("## Our message")[0]  # not quoted as evidence


def test_the_simulator_says_so_first_in_both_languages() -> None:
    inq = inquiry(attempt(BLOCK, "blocked", "blocked", transport="simulator"), auth=clean_dns())
    en, ko = render(inq, lang="en", fmt="md"), render(inq, lang="ko", fmt="md")
    assert en.split("\n\n")[1].startswith(
        "Rehearsal — every reply below came from mailfate's built-in simulator"
    )
    assert "Do not send this letter" in en
    assert ko.split("\n\n")[1].startswith("리허설") and "시뮬레이터(가상 수신 서버)" in ko
    real = render(inquiry(attempt(BLOCK, "blocked", "blocked"), auth=clean_dns()), lang="en", fmt="md")
    assert "Rehearsal" not in real


def test_html_keeps_the_records_as_code() -> None:
    reply = "550 5.7.1 <b>no</b> spf=none"
    html = render(inquiry(attempt(reply, "blocked")), lang="en", fmt="html")
    assert "<pre><code>bounces.app.test" not in html  # no envelope domain known: the From domain
    assert "<pre><code>app.test. TXT &#34;v=spf1 ip4:&lt;sending IP&gt; -all&#34;</code></pre>" in html
    assert "&lt;b&gt;no&lt;/b&gt;" in html
