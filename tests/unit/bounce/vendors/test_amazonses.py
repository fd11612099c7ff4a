"""Amazon SES: bounce mails and SES notifications delivered by mail."""

from __future__ import annotations

import json
from typing import Any

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import amazonses

DSN = (
    "From: MAILER-DAEMON@email-bounces.amazonses.com\n"
    "To: sender@example.net\n"
    "Subject: Delivery Status Notification (Failure)\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
    "--b1\nContent-Type: text/plain\n\nAn error occurred while trying to deliver the mail.\n\n"
    "--b1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; a1-2.smtp-out.amazonses.com\n\n"
    "Final-Recipient: rfc822;full@example.org\n"
    "Action: failed\n"
    "Status: 5.0.0 (permanent failure)\n"
    "Remote-MTA: dns; [192.0.2.22]\n"
    "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.2.2 <full@example.org>... Mailbox Full' "
    "(delivery attempts: 0)\n\n"
    "--b1\nContent-Type: message/rfc822\n\nMessage-ID: <m-1@example.net>\nSubject: hi\n\nbody\n--b1--\n"
)


def _sns_mail(payload: dict[str, Any], wrap: bool = False) -> bytes:
    body = json.dumps(payload)
    if wrap:
        body = json.dumps({"Type": "Notification", "Message": body})
    head = (
        "From: SES Notices <no-reply@sns.amazonaws.com>\n"
        "Subject: AWS Notification Message\n"
        "Content-Type: text/plain; charset=UTF-8\n\n"
    )
    return (head + body + "\n\n--\nIf you wish to stop receiving notifications ...\n").encode()


def test_wrapped_remote_reply_wins() -> None:
    (record,) = parse_bounce(DSN.encode())
    assert record.parser == "amazonses"
    assert record.recipient == "full@example.org"
    assert (record.status, record.replycode, str(record.reason)) == ("5.2.2", "550", "mailboxfull")
    assert record.original_message_id == "<m-1@example.net>"


def test_unwrap_reply_forms() -> None:
    assert amazonses.unwrap_reply("5.1.0 - Unknown address error 550-'5.1.1 nope' (x)") == (
        "550",
        "5.1.1",
        "550 5.1.1 nope",
    )
    assert amazonses.unwrap_reply(
        "554 4.4.7 Message expired: in 840 minutes.<421 4.4.2 Connection timed out>"
    ) == (
        "421",
        "4.4.2",
        "421 4.4.2 Connection timed out",
    )
    assert amazonses.unwrap_reply("550 5.1.1 user unknown") is None


def test_sns_bounce_notification() -> None:
    payload = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [
                {
                    "emailAddress": "nobody@example.org",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-01-02T03:04:05.000Z",
            "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com",
        },
        "mail": {"messageId": "0101-abc", "source": "sender@example.net"},
    }
    (record,) = parse_bounce(_sns_mail(payload, wrap=True))
    assert record.parser == "amazonses"
    assert (record.recipient, record.status, record.replycode) == ("nobody@example.org", "5.1.1", "550")
    assert (str(record.reason), record.hardbounce) == ("userunknown", True)
    assert record.original_message_id == "0101-abc"
    assert record.timestamp is not None and record.timestamp.year == 2026


def test_sns_complaint_and_delivery() -> None:
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "angry@example.org"}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {"messageId": "0101-def"},
    }
    (record,) = parse_bounce(_sns_mail(complaint))
    assert (str(record.reason), record.feedback_type) == ("feedback", "abuse")
    delivery = {
        "notificationType": "Delivery",
        "delivery": {"recipients": ["happy@example.org"], "smtpResponse": "250 2.6.0 Message received"},
        "mail": {"messageId": "0101-ghi"},
    }
    (record,) = parse_bounce(_sns_mail(delivery))
    assert (str(record.reason), record.status, record.replycode) == ("delivered", "2.6.0", "250")


def test_foreign_mail_and_garbage() -> None:
    assert amazonses.parse(Mail(DSN.replace("amazonses.com", "example.net").encode())) is None
    broken = b"From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n{not json at all"
    assert amazonses.parse(Mail(broken)) is None
    assert (
        amazonses.parse(Mail(b"From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n[1,2]"))
        is None
    )


def test_sns_bounce_subtype_names_the_reason() -> None:
    payload = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "OnAccountSuppressionList",
            "bouncedRecipients": [
                {"emailAddress": "gone@example.org", "action": "failed", "status": "5.1.1"}
            ],
        },
        "mail": {"messageId": "0101-jkl"},
    }
    (record,) = parse_bounce(_sns_mail(payload))
    assert (str(record.reason), record.hardbounce) == ("suppressed", False)
