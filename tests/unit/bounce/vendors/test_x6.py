"""Unidentified MTA X6 ("We had trouble delivering your message.")."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import x6

HEAD = (
    "From: mailer-daemon\nTo: sender@example.net\nSubject: There was an error sending your mail\n"
    "Content-Type: text/plain\n\nWe had trouble delivering your message. Full details follow:\n\n"
    "Subject: 'hello'\nDate: 'Mon, 2 Feb 2026 10:00:00 +0000'\n\n1 error(s):\n\n"
)
RCPT = HEAD + (
    "SMTP Server <mx.example.org> rejected recipient <nobody@example.org> (Error following RCPT command). "
    "It responded as follows: [550 5.1.1 User unknown]\n"
)
DATA = HEAD + (
    "The following recipients returned permanent errors: someone@example.org. Reason: SMTP Server "
    "<192.0.2.25> refused to accept your message (DATA), with the following error message: "
    "[554 5.4.6 Hop count exceeded - possible mail loop]\n"
)


def test_rejected_recipient() -> None:
    (record,) = parse_bounce(RCPT.encode())
    assert record.parser == "x6"
    assert (record.recipient, record.status, record.replycode, str(record.reason)) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
    )
    assert record.command == "RCPT"
    assert record.remote_mta == "mx.example.org"


def test_refused_at_data() -> None:
    (draft,) = x6.parse(Mail(DATA.encode())) or []
    assert (draft.recipient, draft.command, draft.status, draft.replycode) == (
        "someone@example.org",
        "DATA",
        "5.4.6",
        "554",
    )


def test_foreign_and_garbage() -> None:
    assert (
        x6.parse(Mail(b"From: a@example.org\nSubject: There was an error sending your mail\n\nhi\n")) is None
    )
    assert x6.parse(Mail(b"\xff" * 64)) is None
