"""Apache James "Error message below:" bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import apachejames

SAMPLE = (
    "From: postmaster@james.example.net\nTo: sender@example.net\n"
    "Message-ID: <1234.5678.1700000000000.JavaMail.james@james.example.net>\n"
    "Subject: [BOUNCE]\nContent-Type: text/plain\n\n"
    "Hi. This is the James mail server at james.example.net.\n"
    "Error message below:\n550 - Requested action not taken: no such user here\n\n"
    "Message details:\n  Subject: hello\n  MAIL FROM: sender@example.net\n"
    "  RCPT TO: nobody@example.org\n  From: sender@example.net\n"
)


def test_recipient_and_reply() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "apachejames"
    assert record.recipient == "nobody@example.org"
    assert record.replycode == "550"
    assert "no such user here" in record.diagnostic


def test_foreign_and_garbage() -> None:
    other = b"From: a@example.org\nMessage-ID: <1.JavaMail.app@example.org>\nSubject: report\n\nhello\n"
    assert apachejames.parse(Mail(other)) is None
    assert apachejames.parse(Mail(b"\x00\x01" * 500)) is None
