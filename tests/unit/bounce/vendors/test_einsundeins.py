"""1&1 (IONOS) notices."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import einsundeins

NOTICE = (
    '"Mail Delivery System" <mailer-daemon@kundenserver.de>\n'
    "Subject: Mail delivery failed: returning message to sender\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of\n"
    "its recipients. This is a permanent error.\n\n"
    "The following address failed:\n\n"
    "big@example.org\n\n"
    "For the following reason:\n\n"
    "Mail size limit exceeded. For explanation visit\n"
    "http://postmaster.1and1.com/en/error-messages?ip=%1s\n\n"
    "--- The header of the original message is following. ---\n\n"
    "Subject: hi\n"
)
MAIL = "From: " + NOTICE


def test_size_limit_is_mesgtoobig() -> None:
    (draft,) = einsundeins.parse(Mail(MAIL.encode())) or []
    assert draft.recipient == "big@example.org"
    assert draft.diagnostic.startswith("Mail size limit exceeded")
    (record,) = parse_bounce(MAIL.encode())
    assert record.parser == "einsundeins"
    assert (str(record.reason), record.hardbounce) == ("mesgtoobig", False)


def test_foreign_mail_and_garbage() -> None:
    assert einsundeins.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    garbage = MAIL.split("\n\n", 1)[0] + "\n\nFor the following reason:\n" + "\x00\x00\n" * 100
    assert einsundeins.parse(Mail(garbage.encode())) is None


def test_remote_reply_variant() -> None:
    text = MAIL.split("The following address failed:", 1)[0] + (
        "The following address failed:\n\n"
        "    someone@example.fr:\n"
        "    SMTP error from remote server for TEXT command, host: smtp-in.example.fr (192.0.2.5) "
        "reason: 550 5.2.0 Mail rejected.\n\n"
        "--- The header of the original message is following. ---\n\nSubject: hi\n"
    )
    (draft,) = einsundeins.parse(Mail(text.encode())) or []
    assert (draft.recipient, draft.command, draft.remote_mta) == (
        "someone@example.fr",
        "DATA",
        "smtp-in.example.fr",
    )
    assert draft.diagnostic.startswith("550 5.2.0 Mail rejected")
