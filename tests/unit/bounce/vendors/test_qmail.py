"""qmail bounces (QSBMF): hand-written samples in qmail-send's layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import qmail

REMOTE = b"""\
From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@example.net>:
192.0.2.25 does not like recipient.
Remote host said: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
Giving up on 192.0.2.25.

<dmarc@example.com>:
192.0.2.26 failed after I sent the message.
Remote host said: 550-5.7.26 Unauthenticated email from example.org is not accepted due to
550-5.7.26 the domain's DMARC policy.
550 5.7.26 See the postmaster pages.

--- Below this line is a copy of the message.

From: sender@example.org
Subject: hi
"""

LOCAL = b"""\
From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nosuch@example.org>:
Sorry, no mailbox here by that name. (#5.1.1)

<user@nowhere.example>:
Sorry, I couldn't find any host named nowhere.example. (#5.1.2)

<user@nullmx.example>:
Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)

--- Below this line is a copy of the message.

Subject: hi
"""

SENDER_REJECTED = b"""\
From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<friend@example.net>:
Connected to 192.0.2.27 but sender was rejected.
Remote host said: 553 5.1.8 <sender@example.org>: Sender address rejected: Domain not found

--- Below this line is a copy of the message.
"""


def test_remote_replies_commands_and_codes() -> None:
    drafts = qmail.parse(Mail(REMOTE))
    assert drafts is not None
    assert [d.recipient for d in drafts] == ["nobody@example.net", "dmarc@example.com"]
    nobody, dmarc = drafts
    assert (nobody.command, nobody.replycode, nobody.status) == ("RCPT", "550", "5.1.1")
    assert nobody.remote_mta == "192.0.2.25"
    assert "Giving up" not in nobody.diagnostic
    assert (dmarc.command, dmarc.replycode, dmarc.status) == ("DATA", "550", "5.7.26")
    assert dmarc.diagnostic.count("5.7.26") == 1


def test_remote_classified() -> None:
    records = parse_bounce(REMOTE)
    assert [(r.reason.value, r.hardbounce) for r in records] == [
        ("userunknown", True),
        ("authfailure", False),
    ]


def test_local_sentences_carry_their_own_codes() -> None:
    drafts = qmail.parse(Mail(LOCAL))
    assert drafts is not None
    assert [d.status for d in drafts] == ["5.1.1", "5.1.2", "5.4.4"]
    assert all(d.replycode == "" for d in drafts)
    records = parse_bounce(LOCAL)
    assert [(r.reason.value, r.hardbounce) for r in records] == [
        ("userunknown", True),
        ("hostunknown", True),
        ("notaccept", True),
    ]


def test_sender_rejected_is_mail_from() -> None:
    drafts = qmail.parse(Mail(SENDER_REJECTED))
    assert drafts is not None
    (draft,) = drafts
    assert (draft.command, draft.replycode, draft.status) == ("MAIL", "553", "5.1.8")
    (record,) = parse_bounce(SENDER_REJECTED)
    assert record.reason.value == "rejected"
    assert record.hardbounce is False


@pytest.mark.parametrize(
    "raw",
    [
        b"From: someone@example.org\nSubject: failure notice\n\njust a note\n",
        b"From: MAILER-DAEMON@example.org\nSubject: Mail delivery failed\n\n"
        b"This message was created automatically by mail delivery software.\n",
    ],
)
def test_foreign_mail_is_not_mine(raw: bytes) -> None:
    assert qmail.parse(Mail(raw)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: failure notice\n\n"
        b"Hi. This is the qmail-send program at x.\n<>:\n<<>>:\nRemote host said:\n",
        b"Subject: failure notice\n\nHi. This is the qmail-send program at x.\n<a@b>:\n(#9.9.9\n",
        REMOTE[:400],
    ],
)
def test_garbage_does_not_raise(raw: bytes) -> None:
    result = qmail.parse(Mail(raw))
    assert result is None or isinstance(result, list)


_HEADS = [
    b"Subject: failure notice\n\nHi. This is the qmail-send program at x.\n\n<a@b.test>:\n",
    b"Subject: failure notice\n\nHi. This is the qmail-send program at x.\n<a@b.test>:\nRemote host said: ",
]


@settings(max_examples=60, deadline=None)
@given(head=st.sampled_from(_HEADS), body=st.text(max_size=400))
def test_fuzzed_bodies_never_raise(head: bytes, body: str) -> None:
    result = qmail.parse(Mail(head + body.encode("utf-8", "surrogatepass")))
    assert result is None or isinstance(result, list)
