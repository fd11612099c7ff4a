"""MX Logic bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mxlogic

SAMPLE = (
    "From: Mail Delivery System <MAILER-DAEMON@relay.mxlogic.net>\nTo: sender@example.net\n"
    "Subject: Mail delivery failed\nMessage-Id: <mxl~1.2.3@relay.mxlogic.net>\nContent-Type: text/plain\n\n"
    "This message was created automatically by mail delivery software.\n"
    "A message that you have sent could not be delivered to one or more\n"
    "recipients.  This is a permanent error.  The following address failed:\n"
    "  <nobody@example.org>: 550 5.1.1 <nobody@example.org>: Recipient address rejected: "
    "User unknown in local recipient table\n"
    "Included is a copy of the message header:\n-----------------------------------------\n"
    "Subject: hi\n"
)


def test_failed_address() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "mxlogic"
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert mxlogic.parse(Mail(b"From: a@example.org\nSubject: Mail delivery failed\n\nhi\n")) is None
    assert mxlogic.parse(Mail(b"\xff" * 64)) is None
