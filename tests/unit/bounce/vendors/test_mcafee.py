"""McAfee Email and Web Security appliance bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mcafee

SAMPLE = (
    "From: <MAILER-DAEMON@gw.example.net>\nTo: <sender@example.net>\nSubject: Delivery Status\n"
    "X-NAI-Header: Modified by McAfee Email and Web Security Appliance\nMIME-Version: 1.0\n"
    'Content-Type: Multipart/Mixed; boundary="B"\n\n'
    '--B\nContent-Type: text/plain; name="deliveryproblems.txt"\n\n'
    "    --- The following addresses had delivery problems ---\n\n"
    "<nobody@example.org>   (5.1.1 <nobody@example.org>... User unknown)\n\n"
    '--B\nContent-Type: message/delivery-status; name="deliverystatus.txt"\n\n'
    "Original-Recipient: <nobody@example.org>\nAction: failed\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>... User unknown\nRemote-MTA: 192.0.2.25\n\n"
    "--B--\n"
)


def test_problem_line_and_dsn() -> None:
    (draft,) = mcafee.parse(Mail(SAMPLE.encode())) or []
    assert draft.remote_mta == "192.0.2.25"
    (record,) = parse_bounce(SAMPLE.encode())
    assert (record.recipient, record.status, record.replycode, str(record.reason)) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
    )


def test_foreign_and_garbage() -> None:
    assert mcafee.parse(Mail(b"From: a@example.org\nSubject: Delivery Status\n\nall fine\n")) is None
    assert mcafee.parse(Mail(b"\xff" * 64)) is None
