"""Oracle/Sun Messaging Server reports."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import messagingserver

SAMPLE = (
    "From: postmaster@mail.example.net\nTo: sender@example.net\n"
    "Subject: Delivery Notification: Delivery has failed\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\n"
    "This report relates to a message you sent with the following header fields:\n\n"
    "  Message-id: <m1@example.net>\n  Subject: hello\n\n"
    "Your message cannot be delivered to the following recipients:\n\n"
    "  Recipient address: full@example.org\n  Reason: Remote SMTP server has rejected address\n"
    "  Diagnostic code: smtp;550 5.2.2 <full@example.org>... Mailbox Full\n"
    "  Remote system: dns;mx.example.org (TCP|192.0.2.1|47323|192.0.2.25|25) (mx.example.org ESMTP)\n\n"
    "  Recipient address: sender-side@example.org\n  Reason: Server rejected MAIL FROM address\n"
    "  Diagnostic code: smtp;501 5.1.8 Sender address rejected\n"
    "  Remote system: dns;mx.example.org (TCP|192.0.2.1|47323|192.0.2.25|25)\n\n"
    "--B\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns;mail.example.net\n\n"
    "Final-recipient: rfc822;full@example.org\nAction: failed\n"
    "Status: 5.2.2 (Remote SMTP server has rejected address)\n\n"
    "Final-recipient: rfc822;sender-side@example.org\nAction: failed\n"
    "Status: 5.1.8 (Server rejected MAIL FROM address)\n\n--B--\n"
)


def test_two_recipients_with_stages() -> None:
    drafts = messagingserver.parse(Mail(SAMPLE.encode())) or []
    assert [d.command for d in drafts] == ["", "MAIL"]
    assert drafts[0].remote_mta == "mx.example.org"
    first, second = parse_bounce(SAMPLE.encode())
    assert (first.recipient, first.status, first.replycode, str(first.reason)) == (
        "full@example.org",
        "5.2.2",
        "550",
        "mailboxfull",
    )
    assert (second.status, second.replycode, str(second.reason)) == ("5.1.8", "501", "rejected")


def test_foreign_and_garbage() -> None:
    assert (
        messagingserver.parse(Mail(b"From: a@example.org\nSubject: Delivery Notification: x\n\nhi\n")) is None
    )
    assert messagingserver.parse(Mail(b"\x00\xff" * 64)) is None
