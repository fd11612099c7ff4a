"""amavisd-new notices."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import amavis


def _notice(subject: str, text: str, diagnostic: str, status: str) -> str:
    return (
        'From: "Content-filter at mail.example.net" <postmaster@mail.example.net>\n'
        f"To: sender@example.net\nSubject: {subject}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{text}\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.net\n\n"
        f"Final-Recipient: rfc822;someone@example.org\nAction: failed\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n\n--B--\n"
    )


def test_relay_failure() -> None:
    raw = _notice(
        "Undeliverable mail, MTA-BLOCKED",
        "The message WAS NOT relayed to:\n  <someone@example.org>",
        "550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
        "5.1.1",
    )
    (record,) = parse_bounce(raw.encode())
    assert record.parser == "amavis"
    assert (record.recipient, record.status, record.replycode, str(record.reason)) == (
        "someone@example.org",
        "5.1.1",
        "550",
        "userunknown",
    )


def test_bad_header_finding_decides() -> None:
    raw = _notice(
        "Considered UNSOLICITED BULK EMAIL, apparently from you",
        "A message from <sender@example.net> was considered unsolicited bulk e-mail.\n\n"
        'Duplicate header field: "From"',
        "554 5.7.0 Reject, id=12345-01 - SPAM",
        "5.7.0",
    )
    (draft,) = amavis.parse(Mail(raw.encode())) or []
    assert "Duplicate header field" in draft.diagnostic
    (record,) = parse_bounce(raw.encode())
    assert str(record.reason) == "notcompliantrfc"


def test_foreign_and_garbage() -> None:
    assert amavis.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert amavis.parse(Mail(b"\xff" * 64)) is None
