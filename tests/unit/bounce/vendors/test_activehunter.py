"""Active!hunter bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import activehunter

SAMPLE = (
    'From: "MAILER-DAEMON" <MAILER-DAEMON@gw.example.net>\n'
    "To: sender@example.net\nSubject: FAILURE NOTICE : hello\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="----=_Active!Hunter_1"\n\n'
    "------=_Active!Hunter_1\nContent-Type: text/plain\n\n"
    "The original message was received at Mon, 2 Feb 2026 10:00:00 +0900\nfrom example.net\n\n"
    "  ----- The following addresses had permanent fatal errors -----\n"
    ">>> nobody@example.org <nobody@example.org>\n\n"
    "  ----- Transcript of session follows -----\n"
    "550 sorry, no mailbox here by that name (#5.1.1 - chkusr)\n\n"
    "------=_Active!Hunter_1--\n"
)


def test_transcript_reply() -> None:
    (record,) = parse_bounce(SAMPLE.encode())
    assert record.parser == "activehunter"
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert activehunter.parse(Mail(b"From: a@example.org\nSubject: FAILURE NOTICE : x\n\nhi\n")) is None
    assert activehunter.parse(Mail(b"\xff" * 64)) is None
