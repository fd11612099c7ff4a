"""Unidentified MTA X2 ("Unable to deliver message to the following address(es).")."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x2

SAMPLE = (
    "From: MAILER-DAEMON@mail.example.net\nTo: sender@example.net\nSubject: failed delivery\n\n"
    "Message from  example.net.\nUnable to deliver message to the following address(es).\n\n"
    "<someone@example.org>:\n"
    "Resources temporarily unavailable, please try again later [#4.1.9].\n"
    "I'm not going to try again; this message has been in the queue too long.\n\n"
    "--- Original message follows.\n\nSubject: hi\n"
)


def test_expired_with_status_in_text() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "x2"
    assert record.recipient == "someone@example.org"
    assert record.status == "4.1.9"
    assert str(record.reason) == "expired"
    assert record.hardbounce is False


def test_foreign_and_garbage() -> None:
    assert x2.parse(Mail(b"From: MAILER-DAEMON@example.org\nSubject: failed delivery\n\nhi\n")) is None
    assert x2.parse(Mail(b"\x00\xff" * 100)) is None
