"""Unidentified MTA X3 ("This is an automatically generated Delivery Status Notification.")."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x3

HEAD = (
    "From: Mail Delivery System <Mail.Delivery.System@mx.example.net>\nTo: sender@example.net\n"
    "Subject: Delivery status notification\nContent-Type: text/plain\n\n"
    "====================================================================\n"
    "      This is an automatically generated Delivery Status Notification.\n\n"
)
FAILED = HEAD + (
    "Delivery to the following recipients failed permanently:\n\n   * nobody@example.org\n\n"
    "===================================================================\n"
    "                             Technical details:\n\n"
    "SMTP:RCPT host 192.0.2.25: 553 5.3.0 <nobody@example.org>... No such user here\n"
    "===================================================================\n"
)
ABORTED = HEAD + (
    "Delivery to the following recipients was aborted after 5.0 hour(s):\n\n  * late@example.org\n\n"
    "===================================================================\n"
    "                             Technical details:\n\n"
    "Routing: Could not find a gateway for late@example.org\n"
    "===================================================================\n"
)


def test_permanent_failure_with_smtp_detail() -> None:
    (draft,) = x3.parse(Mail(FAILED.encode())) or []
    assert (draft.recipient, draft.command, draft.remote_mta) == ("nobody@example.org", "RCPT", "192.0.2.25")
    (record,) = parse_bounce(FAILED.encode())
    assert (record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "5.3.0",
        "553",
        "userunknown",
        True,
    )


def test_aborted_delivery_is_expired() -> None:
    (record,) = parse_bounce(ABORTED.encode())
    assert record.recipient == "late@example.org"
    assert str(record.reason) == "expired"


def test_foreign_and_garbage() -> None:
    assert x3.parse(Mail(b"From: a@example.org\nSubject: Delivery status notification\n\nhi\n")) is None
    assert x3.parse(Mail(b"\xff" * 100)) is None
