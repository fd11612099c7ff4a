"""Amazon SES notification and event JSON (hand-made payloads in the documented shapes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mailfate.bounce.parsers.ses import PARSER_NAME, parse_ses_json, ses_drafts
from mailfate.bounce.registry import parsers
from mailfate.errors import ParseError
from mailfate.model.reasons import Reason

MAIL: dict[str, Any] = {
    "timestamp": "2026-11-20T08:15:00.120Z",
    "source": "Billing <billing@example.org>",
    "sendingAccountId": "123456789012",
    "messageId": "0100019a2b3c4d5e-aaaa-bbbb-cccc-0123456789ab-000000",
    "destination": ["alice@example.net", "bob@example.net"],
    "headersTruncated": False,
    "commonHeaders": {"from": ["billing@example.org"], "messageId": "<inv-77@example.org>"},
}


def notification(kind: str, body_key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"notificationType": kind, body_key: body, "mail": MAIL}


def event(kind: str, body_key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"eventType": kind, body_key: body, "mail": MAIL}


def bounce(subtype: str, btype: str = "Permanent", **item: str) -> dict[str, Any]:
    return {
        "bounceType": btype,
        "bounceSubType": subtype,
        "bouncedRecipients": [{"emailAddress": "alice@example.net", **item}],
        "timestamp": "2026-11-20T08:15:03.500Z",
        "feedbackId": "0100019a-feed",
        "reportingMTA": "dsn; a1-2.smtp-out.eu-west-1.amazonses.com",
        "remoteMtaIp": "192.0.2.25",
    }


def test_permanent_bounce_with_dsn_is_classified_from_the_diagnostic() -> None:
    payload = notification(
        "Bounce",
        "bounce",
        bounce(
            "General",
            action="failed",
            status="5.1.1",
            diagnosticCode="smtp; 550 5.1.1 <alice@example.net>: User unknown",
        ),
    )
    [rec] = parse_ses_json(json.dumps(payload))
    assert rec.recipient == "alice@example.net"
    assert (rec.status, rec.replycode, str(rec.reason), rec.hardbounce) == (
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    assert rec.action == "failed"
    assert rec.parser == PARSER_NAME
    assert rec.reporting_mta == "a1-2.smtp-out.eu-west-1.amazonses.com"
    assert rec.original_message_id == MAIL["messageId"]
    assert rec.original_envelope_sender == "billing@example.org"
    assert rec.timestamp == datetime(2026, 11, 20, 8, 15, 3, 500000, tzinfo=UTC)


def test_bounce_without_dsn_keeps_every_recipient_in_order() -> None:
    body = bounce("General")
    body["bouncedRecipients"] = [{"emailAddress": "bob@example.net"}, {"emailAddress": "alice@example.net"}]
    records = parse_ses_json(notification("Bounce", "bounce", body))
    assert [r.recipient for r in records] == ["bob@example.net", "alice@example.net"]
    assert {str(r.reason) for r in records} == {"onhold"}
    assert not any(r.hardbounce for r in records)


@pytest.mark.parametrize(
    ("subtype", "btype", "reason", "hard"),
    [
        ("Suppressed", "Permanent", "suppressed", False),
        ("OnAccountSuppressionList", "Permanent", "suppressed", False),
        ("NoEmail", "Permanent", "userunknown", True),
        ("MailboxFull", "Transient", "mailboxfull", False),
        ("MessageTooLarge", "Transient", "mesgtoobig", False),
        ("ContentRejected", "Transient", "contenterror", False),
        ("AttachmentRejected", "Transient", "securityerror", False),
        ("Undetermined", "Undetermined", "undefined", False),
    ],
)
def test_bounce_subtypes_state_reasons(subtype: str, btype: str, reason: str, hard: bool) -> None:
    [rec] = parse_ses_json(event("Bounce", "bounce", bounce(subtype, btype)))
    assert (str(rec.reason), rec.hardbounce) == (reason, hard)


def test_suppressed_wins_over_the_diagnostic_text() -> None:
    body = bounce(
        "OnAccountSuppressionList",
        diagnosticCode="Amazon SES did not send the message because the address is on the suppression list",
    )
    [rec] = parse_ses_json(event("Bounce", "bounce", body))
    assert rec.reason is Reason.SUPPRESSED


def test_content_rejected_yields_to_a_specific_diagnostic() -> None:
    body = bounce(
        "ContentRejected",
        "Transient",
        status="5.7.1",
        diagnosticCode="smtp; 550 5.7.1 Message rejected as spam by Content Filtering",
    )
    [rec] = parse_ses_json(event("Bounce", "bounce", body))
    assert rec.reason is Reason.SPAMDETECTED
    assert (rec.status, rec.replycode) == ("5.7.1", "550")


def test_mailbox_full_transient_bounce() -> None:
    body = bounce("MailboxFull", "Transient", status="5.2.2", diagnosticCode="smtp; 552 5.2.2 Mailbox full")
    [rec] = parse_ses_json(notification("Bounce", "bounce", body))
    assert (str(rec.reason), rec.status, rec.replycode, rec.hardbounce) == (
        "mailboxfull",
        "5.2.2",
        "552",
        False,
    )


def test_complaint_records_the_feedback_type() -> None:
    body = {
        "userAgent": "ExampleISP Feedback Loop (V1.0)",
        "complainedRecipients": [{"emailAddress": "bob@example.net"}],
        "complaintFeedbackType": "abuse",
        "arrivalDate": "2026-11-20T09:00:00.000Z",
        "timestamp": "2026-11-20T09:01:00.000Z",
        "feedbackId": "0100019a-cmp",
    }
    [rec] = parse_ses_json(notification("Complaint", "complaint", body))
    assert (rec.recipient, str(rec.reason), rec.feedback_type, rec.hardbounce) == (
        "bob@example.net",
        "feedback",
        "abuse",
        False,
    )
    assert rec.timestamp == datetime(2026, 11, 20, 9, 1, tzinfo=UTC)


def test_complaint_without_feedback_type_and_suppressed_complaint() -> None:
    body: dict[str, Any] = {"complainedRecipients": [{"emailAddress": "bob@example.net"}]}
    [rec] = parse_ses_json(event("Complaint", "complaint", body))
    assert (str(rec.reason), rec.feedback_type) == ("feedback", "")
    body["complaintSubType"] = "OnAccountSuppressionList"
    [rec] = parse_ses_json(event("Complaint", "complaint", body))
    assert rec.reason is Reason.SUPPRESSED


def test_delivery_is_delivered() -> None:
    body = {
        "timestamp": "2026-11-20T08:15:02.000Z",
        "recipients": ["alice@example.net", "bob@example.net"],
        "smtpResponse": "250 2.6.0 Message received",
        "reportingMTA": "a1-2.smtp-out.eu-west-1.amazonses.com",
    }
    records = parse_ses_json(event("Delivery", "delivery", body))
    assert [(r.recipient, str(r.reason), r.status, r.replycode) for r in records] == [
        ("alice@example.net", "delivered", "2.6.0", "250"),
        ("bob@example.net", "delivered", "2.6.0", "250"),
    ]


@pytest.mark.parametrize(
    ("delay_type", "diagnostic", "reason"),
    [
        ("MailboxFull", "smtp; 452 4.2.2 Over quota", "mailboxfull"),
        ("SpamDetected", "", "spamdetected"),
        ("IPFailure", "", "blocked"),
        ("TransientCommunicationFailure", "", "networkerror"),
        ("InternalFailure", "", "systemerror"),
        ("RecipientServerError", "", "systemerror"),
        ("BYOIPHostNameLookupUnavailable", "", "networkerror"),
    ],
)
def test_delivery_delay_is_soft_with_a_reason_per_delay_type(
    delay_type: str, diagnostic: str, reason: str
) -> None:
    body = {
        "timestamp": "2026-11-20T08:25:00.000Z",
        "delayType": delay_type,
        "expirationTime": "2026-11-21T08:15:00.000Z",
        "delayedRecipients": [
            {"emailAddress": "alice@example.net", "status": "4.0.0", "diagnosticCode": diagnostic}
        ],
    }
    [rec] = parse_ses_json(event("DeliveryDelay", "deliveryDelay", body))
    assert (rec.action, str(rec.reason), rec.hardbounce) == ("delayed", reason, False)
    [draft] = ses_drafts(event("DeliveryDelay", "deliveryDelay", body))
    assert draft.extra["expiration_time"] == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)


def test_delivery_delay_stays_soft_even_for_user_unknown() -> None:
    body = {
        "delayType": "General",
        "delayedRecipients": [{"emailAddress": "bo@example.net", "diagnosticCode": "450 4.1.1 User unknown"}],
    }
    [rec] = parse_ses_json(event("DeliveryDelay", "deliveryDelay", body))
    assert (str(rec.reason), rec.status, rec.replycode, rec.hardbounce, str(rec.kind)) == (
        "userunknown",
        "4.1.1",
        "450",
        False,
        "delayed",
    )


def test_reject_bad_content_is_a_virus_for_every_destination() -> None:
    records = parse_ses_json(event("Reject", "reject", {"reason": "Bad content"}))
    assert [(r.recipient, str(r.reason)) for r in records] == [
        ("alice@example.net", "virusdetected"),
        ("bob@example.net", "virusdetected"),
    ]


@pytest.mark.parametrize(
    ("kind", "key", "body"),
    [
        ("Send", "send", {}),
        ("Open", "open", {"ipAddress": "192.0.2.1"}),
        ("Click", "click", {"link": "https://example.org/"}),
        ("Rendering Failure", "failure", {"errorMessage": "missing attribute", "templateName": "T"}),
        ("Subscription", "subscription", {"contactList": "L"}),
    ],
)
def test_events_that_are_not_bounces_give_nothing(kind: str, key: str, body: dict[str, Any]) -> None:
    assert parse_ses_json(event(kind, key, body)) == []


def sns(message: str, kind: str = "Notification") -> str:
    return json.dumps(
        {
            "Type": kind,
            "MessageId": "6f0b7c1e-0000-4000-8000-000000000001",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-feedback",
            "Message": message,
            "Timestamp": "2026-11-20T08:15:04.000Z",
        }
    )


def test_sns_envelope_is_unwrapped() -> None:
    inner = json.dumps(notification("Bounce", "bounce", bounce("NoEmail")))
    [rec] = parse_ses_json(sns(inner).encode())
    assert (rec.recipient, str(rec.reason)) == ("alice@example.net", "userunknown")


def test_sns_subscription_messages_give_nothing_and_foreign_sns_messages_are_errors() -> None:
    assert parse_ses_json(sns("You have chosen to subscribe.", "SubscriptionConfirmation")) == []
    assert parse_ses_json(sns("You have chosen to deactivate.", "UnsubscribeConfirmation")) == []
    with pytest.raises(ParseError):
        parse_ses_json(sns("Hello world!"))


def test_eventbridge_and_lists_are_unwrapped() -> None:
    wrapped: dict[str, Any] = {"version": "0", "source": "aws.ses", "detail-type": "Email Bounced"}
    wrapped["detail"] = event("Bounce", "bounce", bounce("MailboxFull", "Transient"))
    records = parse_ses_json([wrapped, event("Send", "send", {})])
    assert [str(r.reason) for r in records] == ["mailboxfull"]
    records = parse_ses_json(json.dumps([wrapped, wrapped]))
    assert len(records) == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"\xff\xfe{}",
        "[[[[" * 100_000,
        "42",
        '"Bounce"',
        "{}",
        '{"hello": "world"}',
        '{"notificationType": "Bounce"}',
        '{"notificationType": "Bounce", "bounce": {"bouncedRecipients": "alice@example.net"}}',
        '[{"notificationType": "Delivery", "delivery": {"recipients": []}}, 7]',
    ],
)
def test_broken_or_foreign_json_raises_parse_error(data: str | bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_ses_json(data)
    assert info.value.parser == PARSER_NAME


def test_unknown_event_types_and_empty_lists_give_nothing() -> None:
    assert parse_ses_json('{"eventType": "SomethingNew", "mail": {}}') == []
    assert parse_ses_json('{"notificationType": "Received", "receipt": {}, "mail": {}}') == []
    assert parse_ses_json('{"notificationType": "Bounce", "bounce": {"bouncedRecipients": []}}') == []


def test_odd_values_do_not_raise() -> None:
    body = bounce("General")
    body["bouncedRecipients"] = [None, 3, "carol@example.net", {"emailAddress": ["x"]}, {"status": "5.1.1"}]
    body["timestamp"] = "yesterday"
    body["reportingMTA"] = {"a": 1}
    [rec] = parse_ses_json(event("Bounce", "bounce", body))
    assert rec.recipient == "carol@example.net"
    assert rec.timestamp is None


def test_it_is_not_a_registered_mail_parser() -> None:
    assert all(not entry.module.endswith(".ses") for entry in parsers())
