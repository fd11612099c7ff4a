"""Microsoft Exchange 5.5-2003 (Internet Mail Service) non-delivery reports."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import exchange2003

SAMPLE = (
    "From: postmaster@example.org\nTo: sender@example.net\nSubject: Undeliverable: hello\n"
    "X-Mailer: Internet Mail Service (5.5.2657.72)\nContent-Type: text/plain\n\n"
    "Your message\n\n  To:      nobody@example.org\n  Subject: hello\n"
    "  Sent:    Mon, 2 Feb 2026 10:00:00 -0500\n\n"
    "did not reach the following recipient(s):\n\n"
    "nobody@example.org on Mon, 2 Feb 2026 10:00:05 -0500\n"
    "    The recipient name is not recognized\n"
    "\tThe MTS-ID of the original message is: c=us;a= ;p=example;l=EXCH0000000000\n"
    "    MSEXCH:IMS:EXAMPLE:SITE:EXCH01 0 (000C05A6) Unknown Recipient\n"
    "other@example.org on Mon, 2 Feb 2026 10:00:05 -0500\n"
    "    The recipient name is not recognized\n"
    "    MSEXCH:IMS:EXAMPLE:SITE:EXCH01 0 (000C0595) Ambiguous Recipient\n"
)


def test_error_codes_state_reasons() -> None:
    first, second = exchange2003.parse(Mail(SAMPLE.encode())) or []
    assert (first.recipient, str(first.reason)) == ("nobody@example.org", "userunknown")
    assert (second.recipient, str(second.reason)) == ("other@example.org", "filtered")
    assert "MTS-ID" not in first.diagnostic
    records = parse_bounce(SAMPLE.encode())
    assert [str(r.reason) for r in records] == ["userunknown", "filtered"]
    assert [r.hardbounce for r in records] == [True, False]


def test_foreign_and_garbage() -> None:
    normal = b"From: a@example.org\nX-Mailer: Internet Mail Service (5.5.2657.72)\nSubject: hi\n\nhello\n"
    assert exchange2003.parse(Mail(normal)) is None
    assert exchange2003.parse(Mail(b"\xff" * 64)) is None
