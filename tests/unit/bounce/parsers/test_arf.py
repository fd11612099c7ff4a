"""The ARF (RFC 5965) parser and the older complaint formats it reads."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import arf
from mailfate.model.reasons import Kind, Reason

REPORT = b"""From: FBL <fbl@example.net>
To: abuse@example.org
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <news@example.org>
Original-Rcpt-To: <one@example.net>
Original-Rcpt-To: two@example.net
Arrival-Date: Tue, 03 Mar 2026 08:00:00 +0000

--F
Content-Type: message/rfc822

From: news@example.org
To: one@example.net
Subject: offer
Message-ID: <news-7@example.org>

buy now
--F--
"""

OPT_OUT_WITHOUT_RCPT = REPORT.replace(b"Feedback-Type: abuse", b"Feedback-Type: opt-out").replace(
    b"Original-Rcpt-To: <one@example.net>\nOriginal-Rcpt-To: two@example.net\n", b""
)

JMRP = b"""From: staff@hotmail.com
To: fbl@example.org
Subject: complaint about message from 192.0.2.10
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="J"

--J
Content-Type: message/rfc822

X-HmXmrOriginalRecipient: reader@example.net
From: news@example.org
To: reader@example.net
Subject: offer
Message-ID: <news-8@example.org>

buy now
--J--
"""

ORDINARY = b"From: a@example.org\nTo: b@example.net\nSubject: hi\n\nhello\n"


def test_one_result_per_original_rcpt_to() -> None:
    records = parse_bounce(REPORT)
    assert [r.recipient for r in records] == ["one@example.net", "two@example.net"]
    for r in records:
        assert r.reason is Reason.FEEDBACK
        assert r.feedback_type == "abuse"
        assert r.kind is Kind.COMPLAINT
        assert r.hardbounce is False
        assert r.original_envelope_sender == "news@example.org"
        assert r.original_message_id == "<news-7@example.org>"


def test_recipient_falls_back_to_returned_message_to() -> None:
    records = parse_bounce(OPT_OUT_WITHOUT_RCPT)
    assert [(r.recipient, r.feedback_type) for r in records] == [("one@example.net", "opt-out")]


def test_hotmail_jmrp_complaint() -> None:
    records = parse_bounce(JMRP)
    assert [(r.recipient, r.reason, r.feedback_type) for r in records] == [
        ("reader@example.net", Reason.FEEDBACK, "abuse")
    ]


def test_foreign_mail_is_not_mine() -> None:
    assert arf.parse(Mail(ORDINARY)) is None


def test_garbage_does_not_raise() -> None:
    junk = b"Content-Type: multipart/report; report-type=feedback-report; boundary=z\n\n--z\n\xff\xfe\x00"
    result = arf.parse(Mail(junk))
    assert result is not None
    assert all(d.reason is Reason.FEEDBACK for d in result)


def test_empty_feedback_type_is_kept_as_other() -> None:
    from mailfate.bounce import parse_bounce

    raw = (
        b"From: fbl@example.net\nSubject: complaint\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        b"--F\nContent-Type: message/feedback-report\n\nUser-Agent: x/1.0\nVersion: 1\n"
        b"Original-Rcpt-To: <reader@example.org>\nFeedback-Type: \n\n--F--\n"
    )
    (rec,) = parse_bounce(raw)
    assert rec.recipient == "reader@example.org"
    assert str(rec.reason) == "feedback"
