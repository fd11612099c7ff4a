"""OpenSMTPD delivery status notifications."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import opensmtpd

ERROR = (
    "From: Mailer Daemon <MAILER-DAEMON@mail.example.net>\nTo: sender@example.net\n"
    "Subject: Delivery status notification: error\n\n"
    "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
    "    An error has occurred while attempting to deliver a message for\n"
    "    the following list of recipients:\n\n"
    "nobody@example.org: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown\n"
    "full@example.org: 552 5.2.2 <full@example.org>: Mailbox full\n"
    "ghost@nowhere.test: Domain does not exist\n\n"
    "    Below is a copy of the original message:\n\nSubject: hi\n"
)
DELAYED = (
    "From: Mailer Daemon <MAILER-DAEMON@mail.example.net>\nTo: sender@example.net\n"
    "Subject: Delivery status notification: delayed\n\n"
    "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n"
    "    A message is delayed for more than 4 hours for the following\n    list of recipients:\n\n"
    "someone@example.org: Network error on destination MXs\n\n"
    "    Please note that this is only a temporary failure report.\n"
)


def test_error_report_keeps_order_and_codes() -> None:
    records = parse_bounce(ERROR.encode())
    assert [r.recipient for r in records] == ["nobody@example.org", "full@example.org", "ghost@nowhere.test"]
    assert [str(r.reason) for r in records] == ["userunknown", "mailboxfull", "hostunknown"]
    assert [r.status for r in records[:2]] == ["5.1.1", "5.2.2"]
    assert [r.replycode for r in records[:2]] == ["550", "552"]
    assert [r.hardbounce for r in records] == [True, False, True]


def test_delayed_report() -> None:
    (draft,) = opensmtpd.parse(Mail(DELAYED.encode())) or []
    assert draft.action == "delayed"
    (record,) = parse_bounce(DELAYED.encode())
    assert str(record.reason) == "networkerror"
    assert record.hardbounce is False


def test_foreign_and_garbage() -> None:
    assert (
        opensmtpd.parse(Mail(b"From: a@example.org\nSubject: Delivery status notification\n\nhi\n")) is None
    )
    assert opensmtpd.parse(Mail(b"\x00garbage\xff" * 100)) is None
