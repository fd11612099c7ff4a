"""Postfix bounces: hand-written samples in the layout Postfix 3.x produces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import postfix

TWO_RECIPIENTS = b"""\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Mar 2026 10:00:00 +0000 (UTC)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0UND.1/mx.example.org"
Message-Id: <20260302100000.B0UND@mx.example.org>

This is a MIME-encapsulated message.

--B0UND.1/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<nobody@example.net>: host mx1.example.net[192.0.2.10] said: 550 5.1.1
    <nobody@example.net>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)

<full@example.net>: host mx1.example.net[192.0.2.10] said: 552 5.2.2
    <full@example.net>: Mailbox full (in reply to end of DATA command)

--B0UND.1/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: B0UND
X-Postfix-Sender: rfc822; sender@example.org
Arrival-Date: Mon,  2 Mar 2026 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.net
Original-Recipient: rfc822;nobody@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.example.net
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient address
    rejected: User unknown in local recipient table

Final-Recipient: rfc822; full@example.net
Original-Recipient: rfc822;full@example.net
Action: failed
Status: 5.2.2
Remote-MTA: dns; mx1.example.net
Diagnostic-Code: smtp; 552 5.2.2 <full@example.net>: Mailbox full

--B0UND.1/mx.example.org
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: sender@example.org
To: nobody@example.net, full@example.net
Subject: hello
Message-Id: <orig-1@example.org>

hello

--B0UND.1/mx.example.org--
"""

REFUSED_GREETING = b"""\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="XY.2/mx.example.org"

--XY.2/mx.example.org
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

                   The mail system

<someone@example.net>: host mx.example.net[192.0.2.20] refused to talk to me:
    554 Service not available for your IP

--XY.2/mx.example.org
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; someone@example.net
Action: failed
Status: 4.0.0
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 554 Service not available for your IP

--XY.2/mx.example.org--
"""

NO_HOST = b"""\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="NH.3/mx.example.org"

--NH.3/mx.example.org
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

                   The mail system

<user@nowhere.example>: Host or domain name not found. Name service error for
    name=nowhere.example type=AAAA: Host not found

--NH.3/mx.example.org
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; user@nowhere.example
Action: failed
Status: 5.4.4
Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error
    for name=nowhere.example type=AAAA: Host not found

--NH.3/mx.example.org--
"""

DELAYED_PLAIN = b"""\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Delayed Mail (still being retried)

This is the mail system at host mx.example.org.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

                   The mail system

<late@example.net>: connect to mx.example.net[192.0.2.30]:25: Connection timed
    out
"""

SMTPD_NOTICE = b"""\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: postmaster@mx.example.org (Postmaster)
Subject: Postfix SMTP server: errors from client.example.net[192.0.2.40]

Transcript of session follows.

 Out: 220 mx.example.org ESMTP
 In:  EHLO client.example.net
 Out: 250-mx.example.org
 Out: 250 DSN
 In:  MAIL FROM:<a@example.net>
 Out: 250 2.1.0 Ok
 In:  RCPT TO:<b@example.org>
 Out: 250 2.1.5 Ok
 In:  DATA
 Out: 354 End data with <CR><LF>.<CR><LF>
 Out: 451 4.3.0 Error: queue file write error
 In:  QUIT
 Out: 221 2.0.0 Bye
"""


def test_two_recipients_keep_order_codes_and_commands() -> None:
    drafts = postfix.parse(Mail(TWO_RECIPIENTS))
    assert drafts is not None
    assert [d.recipient for d in drafts] == ["nobody@example.net", "full@example.net"]
    first, second = drafts
    assert (first.status, first.replycode, first.command) == ("5.1.1", "550", "RCPT")
    assert (second.status, second.replycode, second.command) == ("5.2.2", "552", "DATA")
    assert first.remote_mta == "mx1.example.net"
    assert first.action == "failed"
    assert "in reply to" not in first.diagnostic


def test_two_recipients_classified() -> None:
    records = parse_bounce(TWO_RECIPIENTS)
    assert [(r.reason.value, r.hardbounce) for r in records] == [
        ("userunknown", True),
        ("mailboxfull", False),
    ]
    assert records[0].original_message_id == "<orig-1@example.org>"


def test_refused_greeting_is_a_connection_block_without_contradicting_code() -> None:
    drafts = postfix.parse(Mail(REFUSED_GREETING))
    assert drafts is not None
    (draft,) = drafts
    assert draft.command == "CONN"
    assert draft.status == "4.0.0"
    assert draft.replycode == ""  # a 554 under a 4.0.0 status is not trusted
    (record,) = parse_bounce(REFUSED_GREETING)
    assert record.reason.value == "blocked"
    assert record.hardbounce is False


def test_host_not_found_is_hostunknown_and_hard() -> None:
    (record,) = parse_bounce(NO_HOST)
    assert record.recipient == "user@nowhere.example"
    assert record.status == "5.4.4"
    assert record.reason.value == "hostunknown"
    assert record.hardbounce is True


def test_plain_delay_notice_without_report() -> None:
    drafts = postfix.parse(Mail(DELAYED_PLAIN))
    assert drafts is not None
    (draft,) = drafts
    assert draft.recipient == "late@example.net"
    assert draft.action == "delayed"
    assert draft.command == "CONN"
    (record,) = parse_bounce(DELAYED_PLAIN)
    assert record.reason.value == "expired"
    assert record.hardbounce is False


def test_smtpd_error_notice_reads_failing_reply_and_command() -> None:
    drafts = postfix.parse(Mail(SMTPD_NOTICE))
    assert drafts is not None
    (draft,) = drafts
    assert draft.recipient == "b@example.org"
    assert (draft.replycode, draft.status, draft.command) == ("451", "4.3.0", "DATA")
    (record,) = parse_bounce(SMTPD_NOTICE)
    assert record.reason.value == "systemerror"


def test_clean_reply_drops_repeated_continuation_prefixes() -> None:
    text = "550-5.7.1 Messages with multiple 550-5.7.1 addresses in From: 550 5.7.1 header are not accepted."
    assert postfix.clean_reply(text) == (
        "550 5.7.1 Messages with multiple addresses in From: header are not accepted."
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"From: someone@example.org\nSubject: hello\n\nnot a bounce\n",
        b"From: MAILER-DAEMON@example.org\nSubject: failure notice\n\nHi. This is the qmail-send program\n",
    ],
)
def test_foreign_mail_is_not_mine(raw: bytes) -> None:
    assert postfix.parse(Mail(raw)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: Undelivered Mail Returned to Sender\n\n"
        b"This is the mail system at host x.\n<<<>>>:\n\x00\xff",
        b"Subject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; boundary=x\n\n--x\n"
        b"Content-Type: message/delivery-status\n\nFinal-Recipient: ;\nStatus: 9.9\n--x--\n",
        TWO_RECIPIENTS[:700],
    ],
)
def test_garbage_does_not_raise(raw: bytes) -> None:
    result = postfix.parse(Mail(raw))
    assert result is None or isinstance(result, list)


_HEADS = [
    b"Subject: Undelivered Mail Returned to Sender\n\nThis is the mail system at host x.\n\n<a@b.test>: ",
    b"Subject: Delayed Mail (still being retried)\n\n"
    b"This is the mail system at host x.\nX-Postfix-Queue-ID: 1\n",
    b"Subject: Postfix SMTP server: errors from x\n\n"
    b"Transcript of session follows.\n In:  RCPT TO:<a@b.test>\n Out: ",
]


@settings(max_examples=60, deadline=None)
@given(head=st.sampled_from(_HEADS), body=st.text(max_size=400))
def test_fuzzed_bodies_never_raise(head: bytes, body: str) -> None:
    result = postfix.parse(Mail(head + body.encode("utf-8", "surrogatepass")))
    assert result is None or isinstance(result, list)
