"""Sendmail bounces, with and without a delivery-status part: hand-written samples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import sendmail

WITH_REPORT = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
To: <sender@example.org>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="q2AB.1/relay.example.org"

This is a MIME-encapsulated message

--q2AB.1/relay.example.org

The original message was received at Mon, 2 Mar 2026 10:00:00 +0900
from client.example.org [192.0.2.5]

   ----- The following addresses had permanent fatal errors -----
<gone@example.net>
    (reason: 550 5.1.1 <gone@example.net>... User unknown)
<blocked@example.net>
    (reason: 550 5.7.1 Client IP blacklisted by recipient)

   ----- Transcript of session follows -----
... while talking to mx.example.net.:
>>> RCPT To:<gone@example.net>
<<< 550 5.1.1 <gone@example.net>... User unknown
550 5.1.1 <gone@example.net>... User unknown
>>> RCPT To:<blocked@example.net>
<<< 550 5.7.1 Client IP blacklisted by recipient
550 5.1.1 <blocked@example.net>... User unknown

--q2AB.1/relay.example.org
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org
Received-From-MTA: DNS; client.example.org
Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0900

Final-Recipient: RFC822; gone@example.net
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mx.example.net
Diagnostic-Code: SMTP; 550 5.1.1 <gone@example.net>... User unknown
Last-Attempt-Date: Mon, 2 Mar 2026 10:00:01 +0900

Final-Recipient: RFC822; blocked@example.net
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mx.example.net
Diagnostic-Code: SMTP; 550 5.7.1 Client IP blacklisted by recipient
Last-Attempt-Date: Mon, 2 Mar 2026 10:00:01 +0900

--q2AB.1/relay.example.org
Content-Type: message/rfc822

From: sender@example.org
To: gone@example.net
Subject: hi
Message-Id: <orig-2@example.org>

hi

--q2AB.1/relay.example.org--
"""

EXPIRED = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
To: <sender@example.org>
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="q2AC.2/relay.example.org"

--q2AC.2/relay.example.org

   ----- The following addresses had permanent fatal errors -----
<slow@example.net>

   ----- Transcript of session follows -----
Message could not be delivered for 5 days
Message will be deleted from queue

--q2AC.2/relay.example.org
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org

Final-Recipient: RFC822; slow@example.net
Action: failed
Status: 4.4.7

--q2AC.2/relay.example.org--
"""

V5_TRANSCRIPT = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@old.example.org>
To: sender@example.org
Subject: Returned mail: User unknown

   ----- Transcript of session follows -----
554 <nohost@bad.example>... 550 Host unknown (Authoritative answer from name server)
While talking to mail.example.edu:
>>> RCPT To:<nobody@example.edu>
<<< 550 <nobody@example.edu>... User unknown
550 <nobody@example.edu>... User unknown

   ----- Unsent message follows -----
From: sender@example.org
To: nohost@bad.example, nobody@example.edu
Subject: old

old
"""


def test_remote_reply_wins_over_sendmails_own_mapping() -> None:
    drafts = sendmail.parse(Mail(WITH_REPORT))
    assert drafts is not None
    assert [d.recipient for d in drafts] == ["gone@example.net", "blocked@example.net"]
    gone, blocked = drafts
    assert (gone.status, gone.replycode, gone.command) == ("5.1.1", "550", "RCPT")
    assert gone.remote_mta == "mx.example.net"
    # the report says 5.1.1 (Sendmail's mapping) but the server said 5.7.1
    assert (blocked.status, blocked.replycode, blocked.command) == ("5.7.1", "550", "RCPT")
    assert "User unknown" not in blocked.diagnostic


def test_with_report_classified() -> None:
    records = parse_bounce(WITH_REPORT)
    assert [r.reason.value for r in records] == ["userunknown", "blocked"]
    assert [r.hardbounce for r in records] == [True, False]


def test_expired_uses_transcript_notes() -> None:
    (record,) = parse_bounce(EXPIRED)
    assert record.recipient == "slow@example.net"
    assert record.status == "4.4.7"
    assert record.reason.value == "expired"
    assert record.hardbounce is False


def test_v5_transcript_without_report() -> None:
    drafts = sendmail.parse(Mail(V5_TRANSCRIPT))
    assert drafts is not None
    assert [d.recipient for d in drafts] == ["nohost@bad.example", "nobody@example.edu"]
    nohost, nobody = drafts
    assert nohost.replycode == "550"  # the inner reply, not Sendmail's 554
    assert nobody.replycode == "550"
    assert nobody.command == "RCPT"
    records = parse_bounce(V5_TRANSCRIPT)
    assert [(r.reason.value, r.hardbounce) for r in records] == [("hostunknown", True), ("userunknown", True)]


@pytest.mark.parametrize(
    "raw",
    [
        b"From: someone@example.org\nSubject: Returned mail: hi\n\nplain text, no transcript\n",
        b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n\nThe mail system\n",
    ],
)
def test_foreign_mail_is_not_mine(raw: bytes) -> None:
    assert sendmail.parse(Mail(raw)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: Returned mail: x\n\n----- Transcript of session follows -----\n<<<\n>>>\n<@>...\n",
        b"Subject: Returned mail: x\n\n----- Transcript of session follows -----\n"
        b"Final-Recipient: rfc822; @\nStatus: 5\n",
        WITH_REPORT[:900],
    ],
)
def test_garbage_does_not_raise(raw: bytes) -> None:
    result = sendmail.parse(Mail(raw))
    assert result is None or isinstance(result, list)


_HEADS = [
    b"Subject: Returned mail: see transcript for details\n\n   ----- Transcript of session follows -----\n",
    b"Subject: Returned mail: x\n\n"
    b"   ----- Transcript of session follows -----\n... while talking to x.:\n>>> ",
    b"Subject: Warning: x\n\n----- Unsent message follows -----\nFinal-Recipient: rfc822; ",
]


@settings(max_examples=60, deadline=None)
@given(head=st.sampled_from(_HEADS), body=st.text(max_size=400))
def test_fuzzed_bodies_never_raise(head: bytes, body: str) -> None:
    result = sendmail.parse(Mail(head + body.encode("utf-8", "surrogatepass")))
    assert result is None or isinstance(result, list)
