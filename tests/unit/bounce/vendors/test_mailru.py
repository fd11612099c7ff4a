"""Mail.Ru's Exim notice with its Russian preamble."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mailru

NOTICE = (
    "From: mailer-daemon@corp.mail.ru\n"
    "To: sender@example.net\n"
    "Subject: Mail failure\n"
    "X-Failed-Recipients: nobody@example.org, full@example.org\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Это письмо создано автоматически сервером Mail.Ru, отвечать на него не нужно.\n\n"
    "  nobody@example.org\n"
    "    SMTP error from remote mail server after RCPT TO:<nobody@example.org>:\n"
    "    host mx.example.org [192.0.2.9]: 550 5.1.1 <nobody@example.org>... User Unknown\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  nobody@example.org\n"
    "    SMTP error from remote mail server after RCPT TO:<nobody@example.org>:\n"
    "    host mx.example.org [192.0.2.9]: 550 5.1.1 <nobody@example.org>... User Unknown\n"
    "  full@example.org\n"
    "    SMTP error from remote mail server after end of data:\n"
    "    host mx.example.org [192.0.2.9]: 550 :\n"
    "    User unknown\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n"
    "Subject: hi\n"
)


def test_english_list_read_once_in_order() -> None:
    drafts = mailru.parse(Mail(NOTICE.encode())) or []
    assert [d.recipient for d in drafts] == ["nobody@example.org", "full@example.org"]
    assert [d.command for d in drafts] == ["RCPT", "DATA"]
    assert drafts[0].remote_mta == "mx.example.org"


def test_reasons() -> None:
    first, second = parse_bounce(NOTICE.encode())
    assert (first.status, first.replycode, str(first.reason), first.hardbounce) == (
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    # Refused only after the message data: a filter, not a missing mailbox.
    assert (str(second.reason), second.hardbounce) == ("filtered", False)


def test_exim_own_verdicts() -> None:
    text = NOTICE.split("  nobody@example.org\n", 1)[0] + (
        "The following address(es) failed:\n\n  nobody@example.org\n    Unrouteable address\n\n"
        "------ This is a copy of the message, including all the headers. ------\n"
    )
    (record,) = parse_bounce(text.encode())
    assert (str(record.reason), record.hardbounce) == ("hostunknown", True)


def test_foreign_mail_and_garbage() -> None:
    assert mailru.parse(Mail(NOTICE.replace("corp.mail.ru", "example.net").encode())) is None
    garbage = NOTICE.split("\n\n", 1)[0] + "\n\nThe following address(es) failed:\n" + "\x00 \t@\n" * 300
    assert mailru.parse(Mail(garbage.encode())) is None
