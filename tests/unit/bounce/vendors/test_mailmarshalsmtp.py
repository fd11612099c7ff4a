"""MailMarshal SMTP bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mailmarshalsmtp

SAMPLE = (
    'From: postmaster@gw.example.net\nTo: sender@example.net\nSubject: Undeliverable Mail: "hello"\n'
    "Content-Type: text/plain\n\n"
    "Your message:\n   From:    sender@example.net\n   Subject: hello\n\n"
    "Could not be delivered because of\n\n550 5.1.1 User unknown\n\n"
    "The following recipients were affected: \n    nobody@example.org\n    other@example.org\n\n"
    "Additional Information\n======================\n\nOriginal Sender:    <sender@example.net>\n"
    "Remote-MTA:         <192.0.2.25>\nReporting-MTA:      <gw.example.net>\n"
)


def test_every_affected_recipient() -> None:
    records = parse_bounce(SAMPLE.encode())
    assert [r.recipient for r in records] == ["nobody@example.org", "other@example.org"]
    assert {(r.status, r.replycode, str(r.reason), r.hardbounce) for r in records} == {
        ("5.1.1", "550", "userunknown", True)
    }
    assert records[0].remote_mta == "192.0.2.25"


def test_foreign_and_garbage() -> None:
    assert mailmarshalsmtp.parse(Mail(b"From: a@example.org\nSubject: Undeliverable Mail: x\n\nhi\n")) is None
    assert mailmarshalsmtp.parse(Mail(b"\xff" * 64)) is None
