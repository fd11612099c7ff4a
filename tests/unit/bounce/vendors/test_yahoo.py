"""Yahoo! Mail's "Failure Notice"."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import yahoo

HEAD = "From: MAILER-DAEMON@yahoo.com\nTo: sender@example.net\nSubject: Failure Notice\n\n"
NOTICE = HEAD + (
    "Sorry, we were unable to deliver your message to the following address.\n\n"
    "<full@example.org>:\n"
    "Remote host said: 552 5.2.2 <full@example.org>... Mailbox Full [RCPT_TO]\n\n"
    "--- Below this line is a copy of the message.\n\n"
    "Message-ID: <m-1@example.net>\nSubject: hello\n"
)


def test_mailbox_full_with_command_tag() -> None:
    (draft,) = yahoo.parse(Mail(NOTICE.encode())) or []
    assert draft.command == "RCPT"
    assert "[RCPT_TO]" not in draft.diagnostic
    (record,) = parse_bounce(NOTICE.encode())
    assert record.parser == "yahoo"
    assert record.recipient == "full@example.org"
    assert (record.status, record.replycode, str(record.reason)) == ("5.2.2", "552", "mailboxfull")
    assert record.hardbounce is False


def test_old_style_code_with_colon() -> None:
    text = NOTICE.replace(
        "Remote host said: 552 5.2.2 <full@example.org>... Mailbox Full [RCPT_TO]",
        "550: <full@example.org>: User unknown",
    )
    (record,) = parse_bounce(text.encode())
    assert record.replycode == "550"
    assert str(record.reason) == "userunknown"
    assert record.hardbounce is True


def test_sender_rejected_at_mail_from() -> None:
    text = NOTICE.replace(
        "Remote host said: 552 5.2.2 <full@example.org>... Mailbox Full [RCPT_TO]",
        "Remote host said: 501 5.1.8 Sender address rejected [MAIL_FROM]",
    )
    (draft,) = yahoo.parse(Mail(text.encode())) or []
    assert draft.command == "MAIL"
    (record,) = parse_bounce(text.encode())
    assert (record.status, str(record.reason)) == ("5.1.8", "rejected")


def test_domain_without_mx_is_notaccept_and_hard() -> None:
    text = NOTICE.replace(
        "Remote host said: 552 5.2.2 <full@example.org>... Mailbox Full [RCPT_TO]",
        "No mx record found for domain=example.org",
    )
    (record,) = parse_bounce(text.encode())
    assert str(record.reason) == "notaccept"
    assert record.hardbounce is True


def test_foreign_mail_and_garbage() -> None:
    assert yahoo.parse(Mail(b"From: a@example.org\nSubject: Failure Notice\n\nhello\n")) is None
    garbage = (
        HEAD + "Sorry, we were unable to deliver your message to the following address.\n" + "<<>>:\n" * 200
    )
    assert yahoo.parse(Mail(garbage.encode())) is None
