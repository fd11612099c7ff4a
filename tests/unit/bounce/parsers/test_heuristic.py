"""The last-resort parser: an address next to an error, only in mail that is a bounce."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.parsers import heuristic
from mailfate.model.reasons import Reason

PLAIN_BOUNCE = b"""From: MAILER-DAEMON@mail.example.net
To: sender@example.org
Subject: Returned mail: delivery problem
Content-Type: text/plain

User's mailbox is full: <full@example.com>
Unable to deliver mail.
"""


def test_address_next_to_error() -> None:
    records = parse_bounce(PLAIN_BOUNCE)
    assert [(r.recipient, r.reason, r.hardbounce) for r in records] == [
        ("full@example.com", Reason.MAILBOXFULL, False)
    ]


def test_not_a_bounce_is_ignored() -> None:
    raw = PLAIN_BOUNCE.replace(b"MAILER-DAEMON@mail", b"friend@mail").replace(
        b"Returned mail: delivery problem", b"Weekly digest"
    )
    assert heuristic.parse(Mail(raw)) is None


def test_bounce_without_error_next_to_an_address() -> None:
    raw = (
        b"From: postmaster@example.net\nTo: s@example.org\nSubject: failure notice\n\ntarget: x@example.com\n"
    )
    assert heuristic.parse(Mail(raw)) is None
