"""mailfate events → Amazon SES event-publishing JSON (``format = "ses"``), kind by kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailfate.model import Event, MessageView, RecipientView
from mailfate.tracking.ses_events import ses_event, sns_notification, topic_arn

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
MESSAGE = MessageView(
    id="m01",
    created_at=T0,
    from_addr="app@app.example",
    subject="Code",
    category="transactional",
    tags=("signup",),
    deadline=T0 + timedelta(minutes=10),
    expires_at=T0 + timedelta(days=5),
    header_message_id="<x@app.example>",
    size=100,
    fate="bounced",
    recipients=(
        RecipientView(1, "m01", "kim@naver.com", "naver.com", "bounced", 1, None, None, None, None, None),
    ),
    events=(),
)


def event(kind: str, **data: Any) -> Event:
    return Event(7, "m01", 1, "kim@naver.com", T0 + timedelta(seconds=3), kind, data)


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (event("queued"), ("Send", None)),
        (event("attempt", outcome="delivered", code=250, text="ok"), ("Delivery", None)),
        (
            event("attempt", outcome="deferred", reason="greylisted", code=451, status="4.7.1"),
            ("DeliveryDelay", "General"),
        ),
        (
            event("attempt", outcome="deferred", reason="mailboxfull", code=452),
            ("DeliveryDelay", "MailboxFull"),
        ),
        (event("attempt", outcome="deferred", reason="blocked", code=421), ("DeliveryDelay", "IPFailure")),
        (
            event(
                "attempt", outcome="bounced", reason="userunknown", hardbounce=True, code=550, status="5.1.1"
            ),
            ("Bounce", ("Permanent", "NoEmail")),
        ),
        (
            event("attempt", outcome="bounced", reason="norelaying", hardbounce=False, code=554),
            ("Bounce", ("Transient", "General")),
        ),
        (
            event(
                "bounced",
                reason="mailboxfull",
                hardbounce=False,
                diagnostic="552 5.2.2 full",
                remote_mta="mx.test",
            ),
            ("Bounce", ("Transient", "MailboxFull")),
        ),
        (event("expired", reason="greylisted"), ("Bounce", ("Transient", "General"))),
        (event("suppressed", reason="hard bounce"), ("Bounce", ("Permanent", "Suppressed"))),
        (event("complained", feedback_type="abuse"), ("Complaint", None)),
        (event("rejected", detail="message too big for SES"), ("Reject", None)),
    ],
)
def test_each_kind_has_its_ses_event(made: Event, expected: tuple[str, Any]) -> None:
    ses = ses_event(made, MESSAGE)
    assert ses is not None
    kind, detail = expected
    assert ses["eventType"] == kind
    assert ses["mail"]["messageId"] == "m01" and ses["mail"]["destination"] == ["kim@naver.com"]
    assert {"name": "X-Tag", "value": "signup"} in ses["mail"]["headers"]
    if kind == "Bounce":
        bounce = ses["bounce"]
        assert (bounce["bounceType"], bounce["bounceSubType"]) == detail
        assert bounce["bouncedRecipients"][0]["emailAddress"] == "kim@naver.com"
    elif kind == "DeliveryDelay":
        assert ses["deliveryDelay"]["delayType"] == detail
        assert ses["deliveryDelay"]["expirationTime"] == "2026-12-06T09:10:00.000Z"  # the deadline
    elif kind == "Delivery":
        assert ses["delivery"]["smtpResponse"] == "250 ok" and ses["delivery"]["processingTimeMillis"] == 3000
    elif kind == "Complaint":
        assert ses["complaint"]["complaintFeedbackType"] == "abuse"


def test_a_dsn_quotes_the_receiver_and_its_mta() -> None:
    ses = ses_event(
        event(
            "bounced",
            reason="userunknown",
            hardbounce=True,
            status="5.1.1",
            diagnostic="550 5.1.1 no such user",
            remote_mta="mx.naver.com",
        ),
        MESSAGE,
    )
    assert ses is not None
    (recipient,) = ses["bounce"]["bouncedRecipients"]
    assert recipient == {
        "emailAddress": "kim@naver.com", "action": "failed", "status": "5.1.1",
        "diagnosticCode": "smtp; 550 5.1.1 no such user",
    }  # fmt: skip
    assert ses["bounce"]["reportingMTA"] == "dns; mx.naver.com"


@pytest.mark.parametrize("kind", ["autoreplied", "held", "suppression_added", "something-new"])
def test_events_ses_has_not_are_not_sent(kind: str) -> None:
    assert ses_event(event(kind), MESSAGE) is None


def test_the_sns_envelope_is_stable_across_retries() -> None:
    ses = ses_event(event("queued"), MESSAGE)
    assert ses is not None
    first = sns_notification(ses, event=event("queued"), topic=topic_arn("crm"))
    again = sns_notification(ses, event=event("queued"), topic=topic_arn("crm"))
    assert first == again and first["Type"] == "Notification"
    assert first["TopicArn"] == "arn:aws:sns:mailfate:000000000000:crm"
    assert json.loads(first["Message"]) == ses
