"""Amazon WorkMail bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import amazonworkmail

NOTICE = (
    "From: MAILER-DAEMON@us-west-2.amazonses.com\n"
    "Subject: Delivery Status Notification (Failure)\n"
    "X-Mailer: Amazon WorkMail\n"
    'Content-Type: multipart/mixed; boundary="b1"\n\n'
    "--b1\nContent-Type: text/plain; charset=utf-8\n\n"
    "An error occurred while trying to deliver the mail to the following recipients:\n"
    "slow@example.org\n\n"
    "Technical report:\n\n"
    "Reporting-MTA: dsn; a1-2.smtp-out.us-west-2.amazonses.com\n"
    "Action: failed\n"
    "Final-Recipient: rfc822; slow@example.org\n"
    "Diagnostic-Code: smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes."
    "<421 4.4.2 Connection timed out>\n"
    "Status: 4.4.7\n\n"
    "--b1\nContent-Type: message/rfc822\n\nSubject: hi\n\nbody\n--b1--\n"
)


def test_technical_report_in_text_part() -> None:
    (draft,) = amazonworkmail.parse(Mail(NOTICE.encode())) or []
    assert draft.recipient == "slow@example.org"
    assert (draft.status, draft.replycode) == ("4.4.2", "421")
    (record,) = parse_bounce(NOTICE.encode())
    assert record.parser == "amazonworkmail"
    assert (str(record.reason), record.hardbounce) == ("expired", False)


def test_foreign_mail_and_garbage() -> None:
    assert amazonworkmail.parse(Mail(NOTICE.replace("Amazon WorkMail", "Other").encode())) is None
    garbage = b"X-Mailer: Amazon WorkMail\nContent-Type: text/plain\n\nTechnical report:\n\x00\x01:::\n"
    assert amazonworkmail.parse(Mail(garbage)) is None
