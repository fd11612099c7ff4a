"""Unidentified MTA X4 (qmail clones with their own introduction)."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x4

SAMPLE = (
    "From: MAILER-DAEMON@mx.example.net\nTo: sender@example.net\nSubject: failure notice\n\n"
    "Your mail message to the following address(es) could not be delivered. This\n"
    "is a permanent error. Please verify the addresses and try again.\n\n"
    "<full@example.org>:\n"
    "child status 100...The e-mail message could not be delivered because the user's mailfolder is full.\n\n"
    "--- Below this line is a copy of the message.\n\nSubject: hi\n"
)
QMAIL = (
    "From: MAILER-DAEMON@mx.example.net\nTo: sender@example.net\nSubject: failure notice\n\n"
    "Hi. This is the qmail-send program at mx.example.net.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
    "<nobody@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
)


def test_mailfolder_full() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "x4"
    assert record.recipient == "full@example.org"
    assert str(record.reason) == "mailboxfull"
    assert record.hardbounce is False


def test_standard_qmail_is_not_x4() -> None:
    assert x4.parse(Mail(QMAIL.encode())) is None


def test_foreign_and_garbage() -> None:
    assert x4.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert x4.parse(Mail(b"Subject: failure notice\n\n\x00\xff" * 30)) is None
