"""Verizon Wireless gateway bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import verizon

SMS = (
    "From: post_master@vtext.com\nTo: sender@example.net\nSubject: Re:hello\nContent-Type: text/plain\n\n"
    "Error: Invalid user address\n\nError message below:\n"
    "550 - Requested action not taken: no such user here\n\n"
    "Message details:\n  Subject: hello\n  MAIL FROM: sender@example.net\n  RCPT TO: 5550100@vtext.com\n"
)
MMS = (
    "From: MMSC NDR Administrator <sysadmin@m01.vzwpix.com>\nTo: sender@example.net\n"
    "Subject: Undeliverable Message\nContent-Type: text/plain\n\n"
    "Message could not be delivered to mobile.\nError: No valid recipients for this MM\n\n"
    "Original Message:\nFrom: sender@example.net\nTo: 5550100@vzwpix.com\nSubject: hello\n"
)


def test_sms_gateway() -> None:
    (record,) = parse_bounce(SMS.encode())
    assert record.parser == "verizon"
    assert (record.recipient, record.replycode, str(record.reason), record.hardbounce) == (
        "5550100@vtext.com",
        "550",
        "userunknown",
        True,
    )


def test_mms_gateway() -> None:
    (record,) = parse_bounce(MMS.encode())
    assert (record.recipient, str(record.reason)) == ("5550100@vzwpix.com", "userunknown")


def test_foreign_and_garbage() -> None:
    assert verizon.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert verizon.parse(Mail(b"From: post_master@vtext.com\n\nhello\n")) is None
    assert verizon.parse(Mail(b"\xff" * 64)) is None
