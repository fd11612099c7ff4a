"""au EZweb bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import ezweb

HEAD = (
    "From: Mail Administrator <Postmaster@ezweb.ne.jp>\nTo: sender@example.net\n"
    "Subject: Mail System Error - Returned Mail\nContent-Type: text/plain\n"
)
DISABLED = HEAD + (
    "\nThe user(s) account is disabled.\n\n"
    "<someone@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)\n"
)
EXPIRED = HEAD + (
    "\nYour message was not delivered within 0 days and 1 hours.\nRemote host is not responding.\n\n"
    "The following recipients did not receive this message:\n\n<late@ezweb.ne.jp>\n"
)
FILTERED = HEAD + "X-SPASIGN: NG\n\n<someone@ezweb.ne.jp>\n\nEach of the following recipients was rejected.\n"


def test_disabled_account_is_suspend() -> None:
    (record,) = parse_bounce(DISABLED.encode())
    assert record.parser == "ezweb"
    assert (record.recipient, record.replycode, str(record.reason), record.hardbounce) == (
        "someone@ezweb.ne.jp",
        "550",
        "suspend",
        False,
    )


def test_expired_and_filtered() -> None:
    (late,) = parse_bounce(EXPIRED.encode())
    assert (late.recipient, str(late.reason)) == ("late@ezweb.ne.jp", "expired")
    (filtered,) = parse_bounce(FILTERED.encode())
    assert str(filtered.reason) == "filtered"


def test_foreign_and_garbage() -> None:
    assert ezweb.parse(Mail(b"From: Postmaster@ezweb.ne.jp\nSubject: Notice\n\nhello\n")) is None
    assert ezweb.parse(Mail(b"\xff" * 64)) is None
