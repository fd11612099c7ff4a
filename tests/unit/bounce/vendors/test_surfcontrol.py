"""SurfControl E-mail Filter bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import surfcontrol

SAMPLE = (
    "From: <>\nTo: sender@example.net\nSubject: hello\nX-Mailer: SurfControl E-mail Filter\n"
    'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\n"
    "Your message could not be sent.\nA transcript of the attempts to send the message follows.\n"
    "The number of attempts made: 1\nAddressed To: nobody@example.org\n\n"
    "Mon, 2 Feb 2026 10:00:00 +0900\nFailed to send to identified host,\n"
    "nobody@example.org: [192.0.2.25], 550 5.1.1 User unknown\n--- Message non-deliverable.\n\n"
    "--B\nContent-Type: message/delivery-status\n\n"
    "Action: failed\nFinal-Recipient: rfc822;nobody@example.org\n"
    "Diagnostic-Code: smtp; 550 5.1.1 User unknown\nStatus: 5.0.0\n\n--B--\n"
)


def test_transcript_line_and_dsn() -> None:
    (draft,) = surfcontrol.parse(Mail(SAMPLE.encode())) or []
    assert draft.remote_mta == "192.0.2.25"
    (record,) = parse_bounce(SAMPLE.encode())
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_foreign_and_garbage() -> None:
    assert (
        surfcontrol.parse(Mail(b"From: a@example.org\nX-Mailer: SurfControl E-mail Filter\n\nhi\n")) is None
    )
    assert surfcontrol.parse(Mail(b"\xff" * 64)) is None
