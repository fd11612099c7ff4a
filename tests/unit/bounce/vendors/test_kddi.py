"""au one net (KDDI) bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import kddi

SAMPLE = (
    "From: no-reply@mx01.dion.ne.jp\nTo: sender@example.net\nSubject: Mail\nContent-Type: text/plain\n\n"
    "Your mail sent on: Mon, 2 Feb 2026 10:00:00 +0900\n"
    "     Could not be delivered to: <full@mx01.dion.ne.jp>\n     As their mailbox is full.\n"
)


def test_mailbox_full() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "kddi"
    assert (record.recipient, str(record.reason), record.hardbounce) == (
        "full@mx01.dion.ne.jp",
        "mailboxfull",
        False,
    )


def test_foreign_and_garbage() -> None:
    assert kddi.parse(Mail(b"From: no-reply@mx01.dion.ne.jp\nSubject: News\n\nhello\n")) is None
    assert kddi.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert kddi.parse(Mail(b"\xff" * 64)) is None
