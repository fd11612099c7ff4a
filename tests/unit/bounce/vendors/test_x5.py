"""Unidentified MTA X5: a notice wrapping another MTA's DSN."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x5

SAMPLE = (
    'From: "=?iso-2022-jp?B?TWFpbCBEZWxpdmVyeSBTdWJzeXN0ZW0=?=" <MAILER-DAEMON@gw.example.net>\n'
    'To: "NotificationRecipients" <NotificationRecipients@gw.example.net>\n'
    "Subject: Returned mail: User unknown\nMIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="OUTER"\n\n'
    "--OUTER\nContent-Type: text/plain\n\n"
    "----- The following addresses had permanent delivery errors -----\n\n"
    "--OUTER\nContent-Type: message/rfc822\n\n"
    "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nSubject: Returned mail: User unknown\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="INNER"\n\n'
    "--INNER\nContent-Type: text/plain\n\n"
    "   ----- The following addresses had permanent delivery errors -----\n"
    "nobody@example.org\n\n"
    "--INNER\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.net\n\n"
    "Final-Recipient: RFC822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
    "--INNER--\n\n--OUTER--\n"
)


def test_nested_dsn() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "x5"
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert x5.parse(Mail(b"From: a@example.org\nTo: NotificationRecipients@x.test\n\nhi\n")) is None
    assert x5.parse(Mail(b"\x00" * 64)) is None
