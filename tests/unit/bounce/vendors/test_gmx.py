"""GMX's Exim-like notice."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import gmx

NOTICE = (
    "From: MAILER-DAEMON@mail.gmx.com\n"
    "To: sender@gmx.example.net\n"
    "Subject: Mail delivery failed: returning message to sender\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of\n"
    "its recipients. This is a permanent error. The following address\n"
    "failed:\n\n"
    '"nobody@example.org":\n'
    "SMTP error from remote server after RCPT command:\n"
    "host: mx.example.org\n"
    "5.1.1 <nobody@example.org>... User Unknown\n"
    '"full@example.org":\n'
    "SMTP error from remote server after RCPT command:\n"
    "host: mx.example.org\n"
    "5.2.2 <full@example.org>... Mailbox Full\n\n"
    "--- The header of the original message is following. ---\n\n"
    "Subject: hi\n"
)


def test_two_recipients() -> None:
    drafts = gmx.parse(Mail(NOTICE.encode())) or []
    assert [d.recipient for d in drafts] == ["nobody@example.org", "full@example.org"]
    assert {d.remote_mta for d in drafts} == {"mx.example.org"}
    assert {d.command for d in drafts} == {"RCPT"}
    first, second = parse_bounce(NOTICE.encode())
    assert (first.status, str(first.reason), first.hardbounce) == ("5.1.1", "userunknown", True)
    assert (second.status, str(second.reason), second.hardbounce) == ("5.2.2", "mailboxfull", False)


def test_foreign_mail_and_garbage() -> None:
    assert gmx.parse(Mail(NOTICE.replace("mail.gmx.com", "example.net").encode())) is None
    garbage = NOTICE.split("\n\n", 1)[0] + "\n\n" + 'failed:\n"":\n' * 100
    assert gmx.parse(Mail(garbage.encode())) is None
