"""HCL/Lotus Domino delivery failure reports."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import domino

SAMPLE = (
    "From: Postmaster@example.org\nTo: sender@example.net\n"
    "Subject: DELIVERY FAILURE: User Nobody (nobody@example.org) not listed in Domino Directory\n"
    "Content-Type: text/plain\n\n"
    "Your message\n\n  Subject: hello\n\nwas not delivered to:\n\n  nobody@example.org\n\n"
    "because:\n\n  User Nobody (nobody@example.org) not listed in Domino Directory\n\n"
)


def test_not_in_directory() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "domino"
    assert record.recipient == "nobody@example.org"
    assert str(record.reason) == "userunknown"
    assert record.hardbounce is True
    assert "Domino Directory" in record.diagnostic


def test_foreign_and_garbage() -> None:
    assert domino.parse(Mail(b"From: a@example.org\nSubject: DELIVERY FAILURE: x\n\nhi\n")) is None
    assert domino.parse(Mail(b"\x00\xff" * 64)) is None
