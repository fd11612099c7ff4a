"""Trend Micro InterScan MSS bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import interscanmss

SAMPLE = (
    'From: "InterScan MSS" <postmaster@gw.example.net>\nTo: sender@example.net\n'
    "Subject: Mail could not be delivered\nContent-Type: text/plain\n\n"
    "Transcript of session follows.\n\n...\nSent <<< RCPT TO:<nobody@example.org>\n"
    "Received >>> 550 5.1.1 <nobody@example.org>... user unknown\n...\n"
)


def test_transcript() -> None:
    (draft,) = interscanmss.parse(Mail(SAMPLE.encode())) or []
    assert (draft.recipient, draft.command) == ("nobody@example.org", "RCPT")
    (record,) = parse_bounce(SAMPLE.encode())
    assert (record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_unable_to_deliver_line() -> None:
    text = (
        'From: "InterScan MSS" <postmaster@gw.example.net>\nTo: sender@example.net\n'
        "Subject: Mail could not be delivered\n\n"
        "Unable to deliver message to <nobody@example.org> (and other recipients in the same domain).\n"
    )
    (record,) = parse_bounce(text.encode())
    assert (record.recipient, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "userunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert interscanmss.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert interscanmss.parse(Mail(b'From: "InterScan MSS" <p@x.test>\n\n\xff\xfe' * 10)) is None
