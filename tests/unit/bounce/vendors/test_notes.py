"""Lotus Notes SMTP MTA bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import notes

SAMPLE = (
    "From: postmaster@gw.example.org\nTo: sender@example.net\nSubject: Undeliverable message\n\n"
    "------- Failure Reasons  --------\n\nUser  not listed in public Name & Address Book\n"
    "nobody@example.org\n\n\n------- Returned Message --------\nSubject: hello\n"
)


def test_failure_reason_block() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "notes"
    assert record.recipient == "nobody@example.org"
    assert str(record.reason) == "userunknown"
    assert record.hardbounce is True


def test_unknown_wording_is_onhold() -> None:
    text = SAMPLE.replace("User  not listed in public Name & Address Book", "Something odd happened")
    (record,) = parse_bounce(text.encode())
    assert str(record.reason) == "onhold"
    assert record.hardbounce is False


def test_recipient_from_returned_message() -> None:
    text = (
        "From: postmaster@gw.example.org\nTo: sender@example.net\nSubject: Undeliverable message\n\n"
        "------- Failure Reasons  --------\n\nMessage has exceeded maximum hop count\n\n"
        "------- Returned Message --------\n\nReceived: from a.example.net\nTo: someone@example.org\n"
        "Subject: hello\n\nbody\n"
    )
    (record,) = parse_bounce(text.encode())
    assert (record.recipient, str(record.reason)) == ("someone@example.org", "networkerror")


def test_foreign_and_garbage() -> None:
    assert notes.parse(Mail(b"From: a@example.org\nSubject: Undeliverable message\n\nhi\n")) is None
    assert notes.parse(Mail(b"\xff" * 64)) is None
