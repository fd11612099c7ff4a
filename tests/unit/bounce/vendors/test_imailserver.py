"""Ipswitch IMail (SMTP32) bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import imailserver

HEAD = (
    'From: "Postmaster" <postmaster@mail.example.net>\nTo: sender@example.net\n'
    "Subject: Undeliverable Mail\nX-Mailer: <SMTP32 v8.22>\n\n"
)


def _one(line: str) -> tuple[str, bool]:
    (record,) = parse_bounce((HEAD + line + "\n\nOriginal message follows.\n\nSubject: hi\n").encode())
    assert record.parser == "imailserver"
    return str(record.reason), record.hardbounce


def test_imail_sentences() -> None:
    assert _one("Unknown user: nobody@example.org") == ("userunknown", True)
    assert _one("Invalid final delivery userid: nobody@example.org") == ("userunknown", True)
    assert _one("User mailbox exceeds allowed size: full@example.org") == ("mailboxfull", False)
    assert _one("Delivery failed 20 attempts: late@example.org") == ("expired", False)


def test_recipient() -> None:
    (draft,) = imailserver.parse(Mail((HEAD + "Unknown user: nobody@example.org\n").encode())) or []
    assert draft.recipient == "nobody@example.org"


def test_foreign_and_garbage() -> None:
    assert imailserver.parse(Mail(b"From: a@example.org\nX-Mailer: <SMTP32 v8.22>\n\nhello there\n")) is None
    assert imailserver.parse(Mail(b"\xff" * 64)) is None
