"""The SMTP command a qmail or Exim notice names in words ends up in the record."""

from __future__ import annotations

import pytest

from mailfate.bounce import parse_bounce

_QMAIL = (
    "From: MAILER-DAEMON@mx.example.org\nTo: list-bounces@lists.example.org\nSubject: failure notice\n\n"
    "Hi. This is the qmail-send program at mx.example.org.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<ann@example.com>:\n{stage}\n\n--- Below this line is a copy of the message.\n\nSubject: hi\n"
)
_EXIM = (
    "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: list-bounces@lists.example.org\n"
    "Subject: Mail delivery failed: returning message to sender\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  bob@example.com\n{detail}\n\n------ This is a copy of the message, including all the headers. ------\n"
)


@pytest.mark.parametrize(
    ("stage", "command"),
    [
        (
            "192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 no such user\nGiving "
            "up on 192.0.2.1.",
            "RCPT",
        ),
        ("Connected to 192.0.2.1 but sender was rejected.\nRemote host said: 553 sender denied", "MAIL"),
        ("192.0.2.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam", "DATA"),
        (
            "Remote host said: 550 5.1.1 unknown user (in reply to RCPT TO command)\nGiving up on 192.0.2.1.",
            "RCPT",
        ),
        ("Remote host said: 554 5.7.1 rejected after end of data\nGiving up on 192.0.2.1.", "DATA"),
    ],
)
def test_qmail_command(stage: str, command: str) -> None:
    (record,) = parse_bounce(_QMAIL.format(stage=stage).encode())
    assert (record.parser, record.recipient, record.command) == ("qmail", "ann@example.com", command)


@pytest.mark.parametrize(
    ("detail", "command"),
    [
        (
            "    SMTP error from remote mail server after RCPT TO:<bob@example.com>:\n"
            "    host mx.example.com [192.0.2.7]: 550 5.1.1 unknown user",
            "RCPT",
        ),
        (
            "    SMTP error from remote mail server after end of data:\n"
            "    host mx.example.com [192.0.2.7]: 552 5.3.4 message too big",
            "DATA",
        ),
        (
            "    SMTP error from remote mail server after MAIL "
            "FROM:<list-bounces@lists.example.org> SIZE=2048:\n"
            "    host mx.example.com [192.0.2.7]: 553 5.1.8 sender domain does not exist",
            "MAIL",
        ),
        (
            "    SMTP error from remote mail server after initial connection:\n"
            "    host mx.example.com [192.0.2.7]: 554 5.7.1 go away",
            "CONN",
        ),
        ("    host mx.example.com [192.0.2.7]: SMTP timeout after end of data: Connection timed out", "DATA"),
        (
            "    host mx.example.com [192.0.2.7]: Remote host closed connection in response to "
            "RCPT TO:<bob@example.com>",
            "RCPT",
        ),
    ],
)
def test_exim_command(detail: str, command: str) -> None:
    (record,) = parse_bounce(_EXIM.format(detail=detail).encode())
    assert (record.parser, record.recipient, record.command) == ("exim", "bob@example.com", command)
