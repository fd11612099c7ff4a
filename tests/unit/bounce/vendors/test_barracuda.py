"""Barracuda Spam & Virus Firewall notices."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import barracuda

SAMPLE = (
    "From: MAILER-DAEMON <>\nTo: sender@example.net\n"
    "Subject: **Message you sent blocked by our bulk email filter**\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\nYour message to: someone@example.org\n"
    "was blocked by our Spam Firewall. The email you sent with the following subject "
    "has NOT BEEN DELIVERED:\n\n"
    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; barracuda.example.org\n\n"
    "Final-Recipient: rfc822; someone@example.org\nAction: failed\nStatus: 5.7.1\n"
    "Diagnostic-Code: smtp; 550 5.7.1 Message content rejected, UBE, id=12345-01-1\n\n--B--\n"
)


def test_ube_is_spam() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "barracuda"
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "someone@example.org",
        "5.7.1",
        "550",
        "spamdetected",
        False,
    )


def test_relayed_mail_is_not_a_notice() -> None:
    relayed = (
        "Received: from a.example.net by barracuda.example.org (Spam Firewall) with ESMTP id 1\n"
        "From: a@example.net\nSubject: lunch\n\nsee you\n"
    )
    assert barracuda.parse(Mail(relayed.encode())) is None
    assert barracuda.parse(Mail(b"\xff" * 64)) is None
