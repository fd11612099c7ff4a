"""The finer cause, the evidence behind a verdict, "hard means dead", and retry advice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailfate.bounce import classify_reply, parse_bounce
from mailfate.bounce.blocklist import blocklist_name
from mailfate.bounce.classify import Classifier
from mailfate.bounce.record import Draft
from mailfate.bounce.retry import retry_hint
from mailfate.bounce.rules import compile_rule
from mailfate.model import NewMessage
from mailfate.model.causes import ADDRESS_DEAD_CAUSES, NEVER_HARD_CAUSES, Cause, Evidence
from mailfate.model.reasons import Kind, Reason
from mailfate.store import Store
from mailfate.tracking.reports import InboundReport, record_reports

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def make(*tables: dict[str, object]) -> Classifier:
    return Classifier([compile_rule(dict(t), "test") for t in tables])


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (
            "450 4.2.0 <kim@example.org>: Recipient address rejected: Greylisted, see http://x.example/g",
            "greylisted",
        ),
        ("451 4.7.1 Please try again later (greylisting)", "greylisted"),
        ("550 5.7.23 SPF validation failed", "spf-fail"),
        ("550 5.7.1 Message rejected: SPF check failed for example.com", "spf-fail"),
        ("550 5.7.20 No passing DKIM signature found", "dkim-fail"),
        ("550 5.7.1 Rejected per DMARC policy for example.com", "dmarc-policy"),
        ("550 5.7.25 Reverse DNS validation failed", "no-ptr"),
        ("554 5.7.1 Client host [192.0.2.9] blocked using b.barracudacentral.org", "ip-blocklisted"),
        ("451 4.7.1 Throttled: too many messages from your IP, slow down", "rate-limited"),
        ("554 5.7.0 Daily sending quota exceeded", "sender-quota"),
        ("530 5.7.0 Must issue a STARTTLS command first", "tls-required"),
        ("421 4.7.0 Too many concurrent connections from this IP", "too-many-connections"),
        ("550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown", "mailbox-unknown"),
    ],
)
def test_a_reply_names_its_finer_cause(reply: str, cause: str) -> None:
    assert str(classify_reply(reply).cause) == cause


def test_the_blocklist_is_named() -> None:
    got = classify_reply(
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
    )
    assert (got.cause, got.cause_detail, got.hardbounce) == (Cause.IP_BLOCKLISTED, "zen.spamhaus.org", False)
    assert blocklist_name("your ip is listed by spamcop") == "spamcop"
    assert blocklist_name("user unknown") == ""


@pytest.mark.parametrize(
    "reply",
    [
        # A rule that reads "user unknown" at 5.1.1 must still not suppress when the receiver says
        # the refusal is about authentication, a blocklist or a quota.
        "550 5.1.1 Recipient rejected: SPF check failed for app.example",
        "550 5.1.1 User unknown; Client host blocked using zen.spamhaus.org",
        "550 5.1.1 Mailbox unknown or sending quota exceeded for your account: daily sending limit exceeded",
    ],
)
def test_hard_means_dead_only_a_never_hard_cause_overrides_a_dead_reason(reply: str) -> None:
    got = classify_reply(reply)
    assert not got.hardbounce
    assert got.cause in NEVER_HARD_CAUSES
    assert got.reason not in (Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, Reason.HASMOVED, Reason.NOTACCEPT)


def test_every_hard_verdict_has_an_address_dead_cause() -> None:
    replies = [
        "550 5.1.1 The email account that you tried to reach does not exist. - gsmtp",
        "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table",
        "553 5.1.2 host unknown",
        "550 5.7.27 The sender address does not pass SPF. - gsmtp",
        "550 5.2.1 Mailbox disabled",
        "554 5.7.1 Relay access denied",
    ]
    for reply in replies:
        got = classify_reply(reply)
        assert not got.hardbounce or got.cause in ADDRESS_DEAD_CAUSES, reply


def test_evidence_says_what_decided() -> None:
    clf = make(
        {"id": "p", "reason": "userunknown", "any": ["no such user"]},
        {"id": "s", "reason": "mailboxfull", "status": ["5.2.2"], "phase": "status"},
        {"id": "c", "reason": "blocked", "codes": ["521"]},
    )
    assert clf.classify_reply("550 no such user").evidence is Evidence.PHRASE
    assert clf.classify_reply("552 5.2.2 over").evidence is Evidence.STATUS
    assert clf.classify_reply("521 go away").evidence is Evidence.CODE_CLASS
    assert clf.classify_reply("550 what").evidence is Evidence.NONE
    draft = Draft(recipient="a@b.example", status="5.0.0", replycode="550", reason=Reason.USERUNKNOWN)
    assert clf.resolve(draft, "x").evidence is Evidence.CODE_CLASS  # a parser's guess from the code
    draft = Draft(recipient="a@b.example", status="5.0.0", reason=Reason.USERUNKNOWN, vouched=True)
    assert clf.resolve(draft, "x").evidence is Evidence.FORMAT  # SES's NoEmail says so itself


def test_a_cause_rule_refines_a_generic_rule_cause_only() -> None:
    clf = make(
        {"id": "auth", "reason": "authfailure", "any": ["unauthenticated"], "cause": "auth-fail"},
        {"id": "rate", "reason": "speeding", "any": ["slow"], "cause": "rate-limited"},
        {"id": "c.spf", "phase": "cause", "cause": "spf-fail", "any": ["spf"]},
    )
    assert clf.classify_reply("550 unauthenticated: spf did not pass").cause is Cause.SPF_FAIL
    assert clf.classify_reply("451 slow down, spf is fine").cause is Cause.RATE_LIMITED


@pytest.mark.parametrize(
    ("reply", "retry", "after"),
    [
        ("451 4.7.1 Greylisted, try again in 5 minutes", True, 300.0),
        ("450 4.2.1 The user you are trying to contact is receiving mail too quickly", True, None),
        ("421 4.7.0 Message rejected by policy. Retrying will NOT succeed.", False, None),
        ("550 5.1.1 User unknown", False, None),
        ("552 5.2.2 Mailbox full", False, None),
        # A sender quota resets: permanent for this attempt, not for the message.
        ("550 5.4.5 Daily user sending limit exceeded. - gsmtp", True, None),
    ],
)
def test_retry_advice(reply: str, retry: bool, after: float | None) -> None:
    got = classify_reply(reply)
    assert (got.retry, got.retry_after) == (retry, after)


def test_retry_helpers() -> None:
    assert retry_hint("please retry after 2 hours") == 7200.0
    assert retry_hint("user unknown") is None
    assert not classify_reply("451 4.3.0 Do not retry this message").retry
    assert classify_reply("451 4.3.0 please retry later").retry


DELAY_DSN = b"""From: MAILER-DAEMON@mx.app.example (Mail Delivery System)
To: bounces@app.example
Subject: Delayed Mail (still being retried)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.app.example.
####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.app.example

Final-Recipient: rfc822; kim@example.org
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.7]:25: Connection timed out

--B--
"""


def test_a_delay_notice_is_not_a_failure() -> None:
    [rec] = parse_bounce(DELAY_DSN)
    assert rec.action == "delayed"
    assert rec.kind is Kind.DELAYED
    assert not rec.hardbounce
    assert rec.retry
    assert rec.cause is not Cause.RETRIES_EXHAUSTED


def _report(mid: str, rid: int, evidence: str) -> InboundReport:
    return InboundReport(
        message_id=mid,
        recipient_id=rid,
        kind="bounced",
        reason="userunknown",
        hardbounce=True,
        status="5.0.0",
        diagnostic="550 rejected",
        at=NOW,
        raw_size=10,
        evidence=evidence,
    )


def test_weak_evidence_does_not_suppress(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    try:
        weak = store.queue.submit(NewMessage("no-reply@app.example", ("a@example.org",), b"x"), NOW)
        strong = store.queue.submit(NewMessage("no-reply@app.example", ("b@example.org",), b"x"), NOW)
        rid_weak = store.messages.find_recipient(weak.message_id, "a@example.org")
        rid_strong = store.messages.find_recipient(strong.message_id, "b@example.org")
        assert rid_weak is not None and rid_strong is not None
        applied = record_reports(
            store.messages,
            [
                _report(weak.message_id, rid_weak, "code-class"),
                _report(strong.message_id, rid_strong, "status"),
            ],
        )
        assert applied == 2
        assert store.suppressions.suppression("a@example.org", "app.example") is None
        assert store.suppressions.suppression("b@example.org", "app.example") is not None
        cause_events = [
            e.data.get("evidence")
            for e in store.messages.events_since(weak.message_id, 0)
            if e.type == "bounced"
        ]
        assert cause_events == ["code-class"]
    finally:
        store.close()


def test_letters_and_timelines_explain_the_cause_before_the_reason() -> None:
    from mailfate.doctor.inquiry_text import _meaning
    from mailfate.model import Event
    from mailfate.tracking.timeline import explain

    assert _meaning("en", "spamdetected", "greylisted").startswith("greylisted: the receiver greylists")
    assert _meaning("ko", "spamdetected", "greylisted").startswith("greylisted: 수신 서버가")
    assert _meaning("en", "spamdetected").startswith("spamdetected:")
    data = {"outcome": "deferred", "code": 451, "text": "4.7.1 Greylisted", "reason": "spamdetected"}
    step = explain(Event(1, "m", 1, "a@example.org", NOW, "attempt", {**data, "cause": "greylisted"}))
    assert step.meaning.startswith("greylisted: the receiver greylists")
    delay = {"status": "4.4.1", "diagnostic": "connect timed out", "reason": "expired", "cause": "delayed"}
    step = explain(Event(2, "m", 1, "a@example.org", NOW, "delayed", delay))
    assert "still retrying" in step.meaning and "ran out" not in step.meaning
