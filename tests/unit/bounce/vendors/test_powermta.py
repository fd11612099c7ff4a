"""PowerMTA delivery reports."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import powermta


def _report(status: str, diagnostic: str, category: str) -> bytes:
    return (
        "From: postmaster@mta.example.net\nTo: bounces@example.net\n"
        "Subject: Delivery report\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\n\n'
        "--R\nContent-Type: text/plain\n\nHello, this is the mail server on mta.example.net.\n\n"
        "--R\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns;mta.example.net\nX-PowerMTA-VirtualMTA: mta.example.net\n\n"
        f"Final-Recipient: rfc822;someone@example.org\nAction: failed\nStatus: {status}\n"
        f"Remote-MTA: dns;mx.example.org (192.0.2.25)\nDiagnostic-Code: smtp;{diagnostic}\n"
        f"X-PowerMTA-BounceCategory: {category}\n\n--R--\n"
    ).encode()


def test_bad_mailbox() -> None:
    raw = _report(
        "5.1.1 (bad destination mailbox address)",
        "550 5.1.1 <someone@example.org>... User Unknown",
        "bad-mailbox",
    )
    (record,) = parse_bounce(raw)
    assert record.parser == "powermta"
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "someone@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    assert record.remote_mta == "mx.example.org"


def test_disabled_mailbox_status_comment() -> None:
    raw = _report(
        "5.2.1 (mailbox disabled, not accepting messages)",
        "550 5.2.1 <someone@example.org>... User Unknown",
        "bad-mailbox",
    )
    (record,) = parse_bounce(raw)
    assert (record.status, str(record.reason), record.hardbounce) == ("5.2.1", "suspend", False)


def test_category_states_the_reason() -> None:
    (draft,) = (
        powermta.parse(Mail(_report("4.2.2 (mailbox full)", "452 4.2.2 Over quota", "quota-issues"))) or []
    )
    assert str(draft.reason) == "mailboxfull"


def test_foreign_and_garbage() -> None:
    assert powermta.parse(Mail(b"From: a@example.org\nSubject: Delivery report\n\nhi\n")) is None
    assert powermta.parse(Mail(b"\xff" * 64)) is None
