"""The RFC 3464 / RFC 6533 parser on hand-made delivery status notifications."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import rfc3464
from mailfate.model.reasons import Reason

TWO_RECIPIENTS = b"""From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: sender@example.org
Subject: Delivery Status Notification (Failure)
Date: Mon, 02 Mar 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0"

--B0
Content-Type: text/plain

Delivery to the following recipients failed.

--B0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Original-Message-ID: <orig-1@example.org>
Arrival-Date: Mon, 02 Mar 2026 09:59:00 +0000

Final-Recipient: rfc822; first@example.com
Original-Recipient: rfc822;first@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <first@example.com>: Recipient address rejected:
 User unknown in local recipient table
Last-Attempt-Date: Mon, 02 Mar 2026 10:00:00 +0000

Final-Recipient: rfc822; second@example.com
Action: failed
Status: 5.2.2
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 552 5.2.2 <second@example.com>: Mailbox full

--B0
Content-Type: message/rfc822

From: sender@example.org
To: first@example.com, second@example.com
Subject: hello
Message-ID: <orig-1@example.org>

hello
--B0--
"""

SUCCESS = b"""From: MAILER-DAEMON@mx.example.net
To: sender@example.org
Subject: Successful Mail Delivery Report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="S"

--S
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; someone@example.com
Action: relayed
Status: 2.0.0
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4711
--S--
"""

DELAYED_NO_DIAGNOSTIC = b"""From: Mail Delivery Service <postmaster@example.net>
To: sender@example.org
Subject: Delivery Status Notification (Delay)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="D"

--D
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; late@example.com
Action: delayed
Status: 4.4.7 (delivery time expired)
--D--
"""

MANGLED = b"""From: MAILER-DAEMON@relay.example.net
To: sender@example.org
Subject: Returned mail: see transcript for details
Content-Type: text/plain

The original message could not be delivered.

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 4.0.0 (example.com: host name lookup failure)
"""

ORDINARY = b"""From: alice@example.org
To: bob@example.net
Subject: lunch
Content-Type: text/plain

See you at noon.
"""


def test_two_recipients_in_report_order() -> None:
    records = parse_bounce(TWO_RECIPIENTS)
    assert [r.recipient for r in records] == ["first@example.com", "second@example.com"]
    first, second = records
    assert (first.status, first.replycode, first.reason, first.hardbounce) == (
        "5.1.1",
        "550",
        Reason.USERUNKNOWN,
        True,
    )
    assert first.remote_mta == "mx.example.com"
    assert first.reporting_mta == "mx.example.net"
    assert first.original_message_id == "<orig-1@example.org>"
    assert "User unknown in local recipient table" in first.diagnostic
    assert (second.status, second.replycode, second.reason, second.hardbounce) == (
        "5.2.2",
        "552",
        Reason.MAILBOXFULL,
        False,
    )


def test_diagnostic_type_is_kept() -> None:
    drafts = rfc3464.parse(Mail(TWO_RECIPIENTS))
    assert drafts is not None
    assert drafts[0].diagnostic_type == "SMTP"
    assert drafts[0].action == "failed"


def test_success_dsn_gives_delivered() -> None:
    records = parse_bounce(SUCCESS)
    assert len(records) == 1
    assert records[0].reason is Reason.DELIVERED
    assert records[0].hardbounce is False


def test_delayed_without_diagnostic_is_expired() -> None:
    records = parse_bounce(DELAYED_NO_DIAGNOSTIC)
    assert [(r.recipient, r.status, r.reason) for r in records] == [
        ("late@example.com", "4.4.7", Reason.EXPIRED)
    ]


def test_status_part_mangled_into_text() -> None:
    drafts = rfc3464.parse(Mail(MANGLED))
    assert drafts is not None and len(drafts) == 1
    assert drafts[0].recipient.endswith("gone@example.com")
    assert "host name lookup failure" in drafts[0].diagnostic
    records = parse_bounce(MANGLED)
    assert records[0].reason is Reason.NETWORKERROR


def test_foreign_mail_is_not_mine() -> None:
    assert rfc3464.parse(Mail(ORDINARY)) is None


def test_garbage_does_not_raise() -> None:
    junk = (
        b"Content-Type: multipart/report; boundary=x\n\n--x\n"
        b"Content-Type: message/delivery-status\n\n\x00\xff::\n--x"
    )
    assert rfc3464.parse(Mail(junk)) in (None, [])
    assert rfc3464.parse(Mail(b"\x00\x01\x02 not mail at all")) is None


GLOBAL = """From: postmaster@example.net
To: sender@example.org
Subject: Undeliverable
MIME-Version: 1.0
Content-Type: multipart/report; report-type=global-delivery-status; boundary="G"

--G
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: utf-8; üser@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 unknown user

Final-Recipient: <plain@example.com>
Action: failed
Status: 5.2.2
--G--
""".encode()


def test_global_delivery_status_and_untyped_recipient() -> None:
    records = parse_bounce(GLOBAL)
    assert [(r.recipient, r.status, r.reason) for r in records] == [
        ("üser@example.com", "5.1.1", Reason.USERUNKNOWN),
        ("plain@example.com", "5.2.2", Reason.MAILBOXFULL),
    ]
    assert records[0].reporting_mta == "mx.example.net"
