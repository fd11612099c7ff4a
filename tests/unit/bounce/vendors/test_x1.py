"""Unidentified MTA X1 ("Mail Deliver System")."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x1

SAMPLE = (
    'From: "Mail Deliver System" <MAILER-DAEMON@mail.example.net>\nTo: sender@example.net\n'
    "Subject: Returned Mail: User unknown\nContent-Type: text/plain\n\n"
    "The original message was received at Mon, 2 Feb 2026 10:00:00 +0900\nfrom sender@example.net\n\n"
    "---The following addresses had delivery errors---\n\nnobody@example.org [User unknown]\n"
)


def test_address_and_reason_text() -> None:
    (draft,) = x1.parse(Mail(SAMPLE.encode())) or []
    assert draft.recipient == "nobody@example.org"
    assert draft.diagnostic == "User unknown"
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "x1"
    assert record.replycode == ""


def test_foreign_and_garbage() -> None:
    assert x1.parse(Mail(b"From: a@example.org\nSubject: Returned Mail: x\n\nhi\n")) is None
    assert x1.parse(Mail(b"\x00" * 100)) is None
