"""MessageLabs (Email Security.cloud) bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import messagelabs

NOTICE = (
    "From: Mail Delivery System <MAILER-DAEMON@messagelabs.com>\n"
    "Subject: Mail Delivery Failure\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
    "--b1\nContent-Type: text/plain\n\nThis is the mail delivery agent at messagelabs.com.\n\n"
    "--b1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; server-1.bemta-2.messagelabs.com\n"
    "Arrival-Date: Thu, 29 Apr 2026 23:34:45 +0000\n\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Remote-MTA: dns; mail.example.org\n"
    "Diagnostic-Code: smtp; 553 Recipient mailbox is not allowed\n"
    "Final-Recipient: rfc822; nobody@example.org\n\n"
    "--b1--\n"
)


def test_dsn_fields_in_any_order() -> None:
    (draft,) = messagelabs.parse(Mail(NOTICE.encode())) or []
    assert (draft.recipient, draft.action, draft.remote_mta) == (
        "nobody@example.org",
        "failed",
        "mail.example.org",
    )
    (record,) = parse_bounce(NOTICE.encode())
    assert record.parser == "messagelabs"
    assert (record.replycode, str(record.reason), record.hardbounce) == ("553", "userunknown", True)


def test_foreign_mail_and_garbage() -> None:
    assert messagelabs.parse(Mail(NOTICE.replace("@messagelabs.com", "@example.net").encode())) is None
    garbage = b"From: MAILER-DAEMON@messagelabs.com\nSubject: x\n\n\x00\xff" * 10
    assert messagelabs.parse(Mail(garbage)) is None
