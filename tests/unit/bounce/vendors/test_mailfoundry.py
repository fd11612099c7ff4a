"""MailFoundry bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mailfoundry

SAMPLE = (
    "From: MAILER-DAEMON@gw.example.net\nTo: sender@example.net\nSubject: Message delivery has failed\n"
    'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\n"
    "Unable to deliver message to: <full@example.org>\nDelivery failed for the following reason:\n"
    "mx.example.org[192.0.2.25] responded with failure: 552 sorry, mailbox full@example.org is over quota"
    " temporarily (#5.2.2)\n\n"
    "This has been a permanent failure.  No further delivery attempts will be made.\n"
    "--B--\n"
)


def test_reason_line() -> None:
    (draft,) = mailfoundry.parse(Mail(SAMPLE.encode())) or []
    assert draft.remote_mta == "mx.example.org"
    (record,) = parse_bounce(SAMPLE.encode())
    assert (record.recipient, record.status, record.replycode, str(record.reason)) == (
        "full@example.org",
        "5.2.2",
        "552",
        "mailboxfull",
    )


def test_foreign_and_garbage() -> None:
    assert (
        mailfoundry.parse(Mail(b"From: a@example.org\nSubject: Message delivery has failed\n\nhi\n")) is None
    )
    assert mailfoundry.parse(Mail(b"\xff" * 64)) is None
