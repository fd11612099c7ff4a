"""Courier mail server DSNs."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import courier

SAMPLE = (
    "From: postmaster@mail.example.net\nTo: sender@example.net\n"
    "Subject: NOTICE: mail delivery status.\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="=_courier_0"\n\n'
    "--=_courier_0\nContent-Type: text/plain; charset=us-ascii\n\n"
    "This is a delivery status notification from mail.example.net,\n"
    "running the Courier mail server, version 0.65.2.\n\n"
    "                           UNDELIVERABLE MAIL\n\n"
    "Your message to the following recipients cannot be delivered:\n\n"
    "<nobody@example.org>:\n    mx.example.org [192.0.2.25]:\n"
    ">>> RCPT TO:<nobody@example.org>\n<<< 550 5.1.1 <nobody@example.org>... User Unknown\n\n"
    "<ghost@nowhere.test>:\n<<< No such domain.\n\n"
    "--=_courier_0\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mail.example.net\n\n"
    "Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.0.0\n"
    "Remote-MTA: dns; mx.example.org [192.0.2.25]\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>... User Unknown\n\n"
    "Final-Recipient: rfc822; ghost@nowhere.test\nAction: failed\nStatus: 5.0.0\n"
    "Diagnostic-Code: unknown; No such domain.\n\n"
    "--=_courier_0--\n"
)


def test_dsn_with_transcript() -> None:
    first, second = parse_bounce(SAMPLE.encode())
    assert first.parser == "courier"
    assert (first.recipient, first.status, first.replycode, str(first.reason)) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
    )
    assert first.command == "RCPT"
    assert first.remote_mta == "mx.example.org"
    assert (second.recipient, second.status, str(second.reason), second.hardbounce) == (
        "ghost@nowhere.test",
        "5.0.0",
        "hostunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert courier.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert courier.parse(Mail(b"Subject: NOTICE: mail delivery status.\n\n\xff\xfe" * 50)) is None
