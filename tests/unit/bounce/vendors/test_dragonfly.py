"""DragonFly Mail Agent (dma) bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import dragonfly

HEAD = (
    "Received: from MAILER-DAEMON\n\tid 1a2b3\n\tby mail.example.net (DragonFly Mail Agent v0.13);\n"
    "\tMon, 2 Feb 2026 10:00:00 +0000\n"
    "From: MAILER-DAEMON <>\nTo: sender@example.net\nSubject: Mail delivery failed\n"
    "Date: Mon, 2 Feb 2026 10:00:00 +0000\n\n"
    "This is the DragonFly Mail Agent v0.13 at mail.example.net.\n\n"
)
RCPT_FAILURE = HEAD + (
    "There was an error delivering your mail to <nobody@example.org>.\n\n"
    "mx.example.org [192.0.2.25] did not like our RCPT TO:\n"
    "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table\n\n"
    "Original message follows.\n\nSubject: hello\nMessage-Id: <m1@example.net>\n"
)
DATA_FAILURE = HEAD + (
    "There was an error delivering your mail to <someone@example.org>.\n\n"
    "mx.example.org [192.0.2.25] did not like our final DATA:\n"
    "550-5.7.26 Unauthenticated email from example.net is not accepted due to\n"
    "550 5.7.26 domain's DMARC policy.\n\n"
    "Message headers follow.\n\nSubject: hello\n"
)
EXPIRED = HEAD + (
    "There was an error delivering your mail to <late@example.org>.\n\n"
    "Could not deliver for the last 432000 seconds. Giving up.\n\n"
    "Message headers follow.\n\nSubject: hello\n"
)
DNS = HEAD + (
    "There was an error delivering your mail to <x@nowhere.test>.\n\n"
    "DNS lookup failure: host nowhere.test not found\n\nMessage headers follow.\n"
)


def test_rcpt_rejection() -> None:
    (record,) = parse_bounce(RCPT_FAILURE.encode())
    assert record.parser == "dragonfly"
    assert record.recipient == "nobody@example.org"
    assert (record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    assert record.command == "RCPT"
    assert record.remote_mta == "mx.example.org"


def test_multiline_data_reply_is_joined_once() -> None:
    (draft,) = dragonfly.parse(Mail(DATA_FAILURE.encode())) or []
    assert draft.command == "DATA"
    assert draft.status == "5.7.26"
    assert draft.replycode == "550"
    assert draft.diagnostic.count("5.7.26") == 1
    assert "DMARC policy" in draft.diagnostic


def test_dma_own_messages() -> None:
    (expired,) = parse_bounce(EXPIRED.encode())
    assert str(expired.reason) == "expired"
    assert expired.hardbounce is False
    (dns,) = parse_bounce(DNS.encode())
    assert str(dns.reason) == "hostunknown"
    assert dns.hardbounce is True


def test_foreign_and_garbage() -> None:
    assert dragonfly.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert dragonfly.parse(Mail(b"\x00\xff" * 200)) is None
    assert dragonfly.parse(Mail(HEAD.encode() + b"nothing useful\n")) is None
