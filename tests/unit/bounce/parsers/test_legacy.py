"""Old and non-standard bounce notices (no delivery-status report), hand-made in each layout."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import legacy
from mailfate.bounce.parsers._notice import command_of, is_warning


def _mail(head: str, body: str) -> bytes:
    return f"{head.strip()}\nDate: Tue, 01 Oct 2002 10:00:00 +0000\n\n{body.lstrip()}".encode()


_BOUNCER = "From: MAILER-DAEMON@mail.example.net\nTo: list-bounces@lists.example.org\n"
_MIXED = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n'

# (name, raw mail, expected recipients, expected action)
CASES: list[tuple[str, bytes, list[str], str]] = [
    (
        "smail-failed-addresses",
        _mail(
            _BOUNCER + "Subject: mail failed, returning to sender",
            """
|------------------------- Failed addresses follow: ---------------------|
 ann@example.com ... unknown user
 bob@example.com ... unknown host
|------------------------- Message text follows: ------------------------|
Received: from lists.example.org
To: ann@example.com, bob@example.com
""",
        ),
        ["ann@example.com", "bob@example.com"],
        "failed",
    ),
    (
        "old-sendmail-plain",
        _mail(
            _BOUNCER + "Subject: Returned mail: User unknown",
            """
The original message was received at Tue, 1 Oct 2002 09:58:00 +0000
from lists.example.org [192.0.2.5]

   ----- The following addresses had permanent fatal errors -----
carol@example.com

   ----- Transcript of session follows -----
... while talking to mx.example.com.:
>>> RCPT To:<carol@example.com>
<<< 550 5.1.1 <carol@example.com>... User unknown
550 carol@example.com... User unknown

   ----- Unsent message follows -----
Received: from lists.example.org
""",
        ),
        ["carol@example.com"],
        "failed",
    ),
    (
        "cannot-be-delivered-list",
        _mail(
            "From: postmaster@example.net\nTo: list-bounces@lists.example.org\nSubject: Undeliverable mail",
            """
Your message cannot be delivered to the following recipients:

  Recipient address: dave@example.net
  Reason: Remote SMTP server has rejected address
  Diagnostic code: smtp;550 5.1.1 No such user

--- Original message follows.
""",
        ),
        ["dave@example.net"],
        "failed",
    ),
    (
        "recipient-reason-lines",
        _mail(
            _BOUNCER + "Subject: Delivery failure",
            """
This is a permanent error. Delivery failed for the following recipients.

Recipient: <erin@example.org> Reason: 5.2.2 Mailbox full
Recipient: <frank@example.org> Reason: 5.1.1 User unknown
""",
        ),
        ["erin@example.org", "frank@example.org"],
        "failed",
    ),
    (
        "groupwise-local-names",
        _mail(
            "From: Mailer-Daemon@groupwise.example.edu\nTo: list-bounces@lists.example.org\n"
            "Subject: Message status - undeliverable\nX-Mailer: Novell GroupWise Internet Agent 5.5.3.1\n"
            + _MIXED,
            """
--B
Content-Type: text/plain; charset=US-ASCII

The message that you sent was undeliverable to the following:
        gina (user not found)

Possibly truncated original message follows:

--B
Content-Type: message/rfc822

From: list@lists.example.org
Subject: hi

hello
--B--
""",
        ),
        ["gina@groupwise.example.edu"],
        "failed",
    ),
    (
        "netscape",
        _mail(
            "From: Mail Administrator <Postmaster@mail.example.com>\nTo: list-bounces@lists.example.org\n"
            "Subject: Mail System Error - Returned Mail\nMIME-Version: 1.0\nContent-Type: multipart/report; "
            'report-type=delivery-status; boundary="B"\n',
            """
--B
Content-Type: text/plain

This Message was undeliverable due to the following reason:

The user(s) account is temporarily over quota.

<hank@example.com>

Please reply to Postmaster@mail.example.com
if you feel this message to be in error.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

--B--
""",
        ),
        ["hank@example.com"],
        "failed",
    ),
    (
        "microsoft-not-reached",
        _mail(
            "From: postmaster@exchange.example.com\nTo: list-bounces@lists.example.org\nSubject: "
            "Undeliverable: hi\n" + _MIXED,
            """
--B
Content-Type: text/plain

Your message

  To:      ivy@example.com
  Subject: hi
  Sent:    Tue, 1 Oct 2002 09:00:00 +0000

did not reach the following recipient(s):

ivy@example.com on Tue, 1 Oct 2002 10:00:00 +0000
    The recipient name is not recognized
    The MTS-ID of the original message is: c=US;a= ;p=Example;l=EXCH0210011000
    MSEXCH:IMS:Example:Site:EXCH 0 (000C05A6) Unknown Recipient

--B--
""",
        ),
        ["ivy@example.com"],
        "failed",
    ),
    (
        "smtp32-undeliverable-to",
        _mail(
            _BOUNCER + "Subject: Undeliverable Mail\nX-Mailer: <SMTP32 v8.00>",
            """
undeliverable to jack@example.com

Original message follows.
""",
        ),
        ["jack@example.com"],
        "failed",
    ),
    (
        "compuserve",
        _mail(
            "From: CompuServe Postmaster <postmaster@compuserve.com>\nTo: list-bounces@lists.example.org\n"
            "Subject: Undeliverable Message",
            """
Receiver not found: kim

Your message could not be delivered as addressed.

--- Returned Message ---
""",
        ),
        ["kim@compuserve.com"],
        "failed",
    ),
    (
        "aol-screen-names",
        _mail(
            "From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>\nTo: list-bounces@lists.example.org\n"
            "Subject: Returned mail: User unknown",
            """
The mail you sent could not be delivered to:

lena

This is a permanent error.
""",
        ),
        ["lena@aol.com"],
        "failed",
    ),
    (
        "delivery-to-following-failed",
        _mail(
            "From: postmaster@corp.example.com\nTo: list-bounces@lists.example.org\n"
            "Subject: Delivery Status Notification (Failure)",
            """
This is an automatically generated Delivery Status Notification.

Delivery to the following recipients failed.

       mike@corp.example.com
       nina@corp.example.com

""",
        ),
        ["mike@corp.example.com", "nina@corp.example.com"],
        "failed",
    ),
    (
        "qmail-lookalike",
        _mail(
            "From: MAILER-DAEMON@mx.example.com\nTo: list-bounces@lists.example.org\nSubject: failure notice",
            """
Hi. The MTA program at mx.example.com was unable to deliver your message to the following addresses.

<oscar@example.com>:
192.0.2.9 does not like recipient.
Remote host said: 550 5.1.1 <oscar@example.com>: Recipient address rejected
Giving up on 192.0.2.9.

--- Below this line is a copy of the message.
""",
        ),
        ["oscar@example.com"],
        "failed",
    ),
    (
        "lsmtp-error-for",
        _mail(
            "From: LSMTP Mail Server <postmaster@example.com>\nTo: list-bounces@lists.example.org\n"
            "Subject: Delivery failure",
            """
--> Error description:
Error-For:  pat@example.com
Error-Code: 5.1.1
Error-Text: No such mailbox
Error-End: One error reported.
""",
        ),
        ["pat@example.com"],
        "failed",
    ),
    # temporary failures
    (
        "warning-only",
        _mail(
            _BOUNCER + "Subject: Warning: message delayed",
            """
This is only a warning; you do not need to resend your message.

Your message to the following recipient has not yet been delivered:

    quinn@example.com
    Reason: 451 4.4.1 Connection timed out

Delivery attempts will continue to be made for 4 days.
""",
        ),
        ["quinn@example.com"],
        "delayed",
    ),
    (
        "warning-still-retried",
        _mail(
            "From: postmaster@example.net\nTo: list-bounces@lists.example.org\nSubject: Delivery "
            "Notification: Delay",
            """
The original message was received at Tue, 1 Oct 2002 09:58:00 +0000
and is still being retried for the following recipient(s):

rose@example.net: 421 Service not available, try again later

Message will be retried for 3 more days.
""",
        ),
        ["rose@example.net"],
        "delayed",
    ),
    (
        "warning-postponed",
        _mail(
            "From: System Administrator <postmaster@exchange.example.com>\nTo: "
            "list-bounces@lists.example.org\n"
            "Subject: Delayed: hello",
            """
This is an advisory-only email. Delivery of your message to the following recipient has been postponed:

    sam@exchange.example.com

The server will continue to try to deliver the message.
""",
        ),
        ["sam@exchange.example.com"],
        "delayed",
    ),
]


@pytest.mark.parametrize(("raw", "recipients", "action"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_formats(raw: bytes, recipients: list[str], action: str) -> None:
    drafts = legacy.parse(Mail(raw)) or []
    assert sorted(d.recipient.lower() for d in drafts) == recipients
    assert {d.action for d in drafts} == {action}
    assert all(d.diagnostic for d in drafts)


@pytest.mark.parametrize(("raw", "recipients", "action"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_whole_pipeline_finds_every_recipient(raw: bytes, recipients: list[str], action: str) -> None:
    records = parse_bounce(raw)
    assert sorted(r.recipient.lower() for r in records) == recipients
    if action == "delayed":
        assert not any(r.hardbounce for r in records)


NEGATIVES: list[tuple[str, bytes]] = [
    (
        "list-post-quoting-a-bounce",
        b"From: Alice <alice@example.com>\nTo: users@lists.example.org\nSubject: Re: Returned "
        b"mail: User unknown\n"
        b"List-Id: <users.lists.example.org>\nIn-Reply-To: <x@example.com>\n\n"
        b"I keep getting this:\n\n> The following addresses had permanent fatal errors\n"
        b"> bob@example.com... User unknown\n\nAny idea?\n",
    ),
    (
        "ordinary-mail-with-bounce-words",
        b"From: Carol <carol@example.com>\nTo: dave@example.net\nSubject: lunch\n\n"
        b"The following recipients could not be reached by phone:\n\neve@example.com\n",
    ),
    (
        "auto-reply",
        b"From: Frank <frank@example.com>\nTo: list@lists.example.org\nSubject: Out of office\n"
        b"Auto-Submitted: auto-replied\n\nI am away until Monday. Please write to gina@example.com.\n",
    ),
    (
        "postmaster-newsletter",
        b"From: postmaster@example.net\nTo: user@example.org\nSubject: New mail server\n\n"
        b"Our mail server moves on Monday. Contact help@example.net for questions.\n",
    ),
    (
        "postmaster-announcement-with-a-list",
        b"From: postmaster@example.net\nTo: staff@example.net\nSubject: Mailboxes moved\n\n"
        b"The following users have been moved to the new server:\n\n  ann@example.net\n  bob@example.net\n",
    ),
    (
        "bounce-without-any-recipient",
        b"From: MAILER-DAEMON@example.net\nTo: user@example.org\nSubject: failure notice\n\n"
        b"Your message could not be delivered.\n",
    ),
]


@pytest.mark.parametrize("raw", [n[1] for n in NEGATIVES], ids=[n[0] for n in NEGATIVES])
def test_not_a_bounce_gives_nothing(raw: bytes) -> None:
    assert legacy.parse(Mail(raw)) is None
    assert [r.kind for r in parse_bounce(raw) if r.kind not in ("autoreply",)] == []


def test_permanent_notice_is_not_a_warning() -> None:
    assert not is_warning("This is a permanent error. Delivery will be retried never.\n")
    assert is_warning("This is only a warning; you do not need to resend your message.\n")
    assert is_warning("", "Warning: could not send message for past 4 hours")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("SMTP error from remote mail server after RCPT TO:<a@example.com>: 550 unknown", "RCPT"),
        ("SMTP error from remote mail server after end of data: 552 too big", "DATA"),
        ("SMTP error from remote mail server after MAIL FROM:<s@example.org> SIZE=100: 553", "MAIL"),
        ("SMTP error from remote mail server after initial connection: 554 go away", "CONN"),
        ("192.0.2.1 does not like recipient.\nRemote host said: 550 no", "RCPT"),
        ("550 5.7.1 rejected (in reply to end of DATA command)", "DATA"),
        (">>> MAIL From:<s@example.org>\n<<< 553 sender rejected", "MAIL"),
        ("550 User unknown", ""),
    ],
)
def test_command_of(text: str, command: str) -> None:
    assert command_of(text) == command


def test_transcript_reply_and_command_are_kept() -> None:
    raw = _mail(
        "From: Mail Delivery Subsystem <postmaster@relay.example.net>\nTo: list-bounces@lists.example.org\n"
        "Subject: Returned mail",
        """
Your message could not be delivered to one or more recipients.

   ----- Transcript of session follows -----
>>> MAIL From:<list-bounces@lists.example.org>
<<< 250 ok
>>> RCPT To:<tom@example.com>
<<< 550 5.1.1 <tom@example.com>: mailbox unavailable
""",
    )
    (draft,) = legacy.parse(Mail(raw)) or []
    assert (draft.recipient, draft.command) == ("tom@example.com", "RCPT")
    assert "mailbox unavailable" in draft.diagnostic


MORE: list[tuple[str, bytes, list[str]]] = [
    (
        "rcpt-to-notice",
        _mail(
            _BOUNCER + "Subject: Mail delivery failure",
            """
This message was created automatically by mail delivery software.

A message that you sent could not be delivered:
  RCPT TO:<uma@example.com>
  550 5.1.1 mailbox unavailable

Original message follows.
""",
        ),
        ["uma@example.com"],
    ),
    (
        "addressed-to",
        _mail(
            _BOUNCER + "Subject: Returned mail",
            "Your message has encountered delivery problems.\nYour message addressed to 'vic@example.com' "
            "could not be delivered: mailbox unavailable.\n",
        ),
        ["vic@example.com"],
    ),
    (
        "mdaemon-quoted-list",
        _mail(
            "From: MDaemon@mail.example.com\nTo: list-bounces@lists.example.org\nSubject: "
            "Permanent Delivery Failure",
            """
The following addresses did NOT receive a copy of your message:

> walt@example.com

--- Session Transcript ---
 Tue 2002-10-01 10:00:00: Parsing message
 Tue 2002-10-01 10:00:01: 550 No such user
""",
        ),
        ["walt@example.com"],
    ),
    (
        "yale-local-names",
        _mail(
            "From: MAILER-DAEMON@yale.edu\nTo: list-bounces@lists.example.org\nSubject: Returned mail",
            """
Message not delivered to the following:

    xena    Mailbox unknown

Error Detail
""",
        ),
        ["xena@yale.edu"],
    ),
    (
        "exim-like-indented",
        _mail(
            "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: list-bounces@lists.example.org\n"
            "Subject: Mail delivery failed",
            """
The mail system could not deliver your message to these recipients:

  yuri@example.com
    SMTP error from remote mail server after RCPT TO:<yuri@example.com>:
    host mx.example.com [192.0.2.7]: 550 5.1.1 unknown user
""",
        ),
        ["yuri@example.com"],
    ),
]


@pytest.mark.parametrize(("raw", "recipients"), [m[1:] for m in MORE], ids=[m[0] for m in MORE])
def test_more_layouts(raw: bytes, recipients: list[str]) -> None:
    drafts = legacy.parse(Mail(raw)) or []
    assert sorted(d.recipient.lower() for d in drafts) == recipients
    assert all(d.action == "failed" and d.diagnostic for d in drafts)


def test_exim_like_text_keeps_the_command() -> None:
    raw = MORE[-1][1]
    (draft,) = legacy.parse(Mail(raw)) or []
    assert draft.command == "RCPT"
    assert "550 5.1.1" in draft.diagnostic


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from([c[1] for c in CASES] + [m[1] for m in MORE]),
    cut=st.integers(min_value=0, max_value=2000),
    noise=st.binary(max_size=200),
)
def test_mangled_notices_never_raise(case: bytes, cut: int, noise: bytes) -> None:
    raw = case[:cut] + noise + case[cut:]
    drafts = legacy.parse(Mail(raw))
    assert drafts is None or all(isinstance(d.recipient, str) and d.recipient for d in drafts)


def test_reply_to_an_earlier_command_applies_to_the_listed_recipient() -> None:
    raw = _mail(
        _BOUNCER + "Subject: Returned mail: see transcript",
        """
The following recipients could not be reached:

  zoe@example.com

   ----- Transcript of session follows -----
>>> MAIL From:<list-bounces@lists.example.org>
<<< 553 5.1.8 sender domain rejected
""",
    )
    (draft,) = legacy.parse(Mail(raw)) or []
    assert (draft.recipient, draft.command) == ("zoe@example.com", "MAIL")
    assert draft.diagnostic.startswith("553 5.1.8 sender domain rejected")
