"""fml mailing-list notices."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import fml

NOT_MEMBER = (
    "From: cats-admin@lists.example.org\nTo: sender@example.net\n"
    "Subject: You sender@example.net are not member (cats ML)\n\n"
    "You are not a member of this mailing list <cats@lists.example.org>.\n"
)
LOOP = (
    "From: cats-admin@lists.example.org\nTo: sender@example.net\n"
    "Subject: Loop Alert: Duplicated Message-ID (cats ML)\n\n"
    "Duplicated Message-ID in <cats@lists.example.org>.\nOriginal mail as follows:\n"
)


def test_not_member_is_rejected() -> None:
    (record,) = parse_bounce(NOT_MEMBER.encode())
    assert record.parser == "fml"
    assert record.recipient == "cats@lists.example.org"
    assert str(record.reason) == "rejected"
    assert record.hardbounce is False


def test_loop_alert_is_systemerror() -> None:
    (record,) = parse_bounce(LOOP.encode())
    assert str(record.reason) == "systemerror"


def test_foreign_and_garbage() -> None:
    assert (
        fml.parse(Mail(b"From: cats-admin@lists.example.org\nSubject: Weekly digest (cats ML)\n\nhi\n"))
        is None
    )
    assert fml.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert fml.parse(Mail(b"\xff" * 300)) is None
