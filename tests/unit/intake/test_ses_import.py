"""SES events land on the messages sent through SES (matched by the SES MessageId)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailfate.intake.ses import import_ses
from mailfate.model import AttemptRecord, AttemptResult, NewMessage
from mailfate.store import Store
from mailfate.tracking.timeline import steps

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def event(kind: str, message_id: str, address: str) -> dict[str, object]:
    mail = {
        "timestamp": "2026-11-28T10:00:00.000Z",
        "source": "no-reply@app.example",
        "messageId": message_id,
        "destination": [address],
    }
    if kind == "Bounce":
        body = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-11-28T10:05:00.000Z",
            "feedbackId": "f1",
            "reportingMTA": "dsn; a1.us-east-1.amazonses.com",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        }
        return {"eventType": "Bounce", "bounce": body, "mail": mail}
    body = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": "2026-11-28T11:00:00.000Z",
        "feedbackId": "f2",
        "complaintFeedbackType": "abuse",
    }
    return {"eventType": "Complaint", "complaint": body, "mail": mail}


@pytest.fixture
def sent(tmp_path: Path) -> tuple[Store, list[str]]:
    store = Store.open(tmp_path / "s.db")
    ids = []
    for i, address in enumerate(("kim@naver.test", "lee@daum.test")):
        mid = store.queue.submit(NewMessage("no-reply@app.example", (address,), b"x"), NOW).message_id
        [claimed] = store.queue.claim(1, now=NOW, lease=60, owner="w")
        result = AttemptResult(
            "delivered",
            250,
            "2.0.0",
            "accepted by Amazon SES",
            "delivered",
            False,
            transport="ses",
            remote_id=f"0100018c-ses-{i}",
        )
        store.queue.record_attempts([AttemptRecord(claimed.recipient_id, result, NOW)])
        ids.append(mid)
    return store, ids


def test_bounce_and_complaint_events_reach_their_messages_and_suppress(sent: tuple[Store, list[str]]) -> None:
    store, ids = sent
    lines = [
        event("Bounce", "0100018c-ses-0", "kim@naver.test"),
        event("Complaint", "0100018c-ses-1", "lee@daum.test"),
        event("Bounce", "0100018c-unknown", "x@y.test"),
    ]
    data = "\n".join(json.dumps(x) for x in lines).encode() + b"\nnot json at all\n"
    result = import_ses(store.messages, data, now=NOW)
    assert (result.applied, result.unmatched, result.errors) == (2, 1, 1)
    bounced, complained = (store.messages.message(m) for m in ids)
    assert bounced is not None and complained is not None
    assert (bounced.fate, complained.fate) == ("bounced", "complained")
    assert store.suppressions.suppression("kim@naver.test", "app.example") is not None
    assert store.suppressions.suppression("lee@daum.test", "app.example").reason == "complaint"  # type: ignore[union-attr]
    store.close()


def test_a_json_array_of_events_is_read_too(sent: tuple[Store, list[str]]) -> None:
    store, _ = sent
    result = import_ses(
        store.messages, json.dumps([event("Bounce", "0100018c-ses-0", "kim@naver.test")]).encode(), now=NOW
    )
    assert result.applied == 1
    store.close()


def info_event(kind: str, key: str, message_id: str, address: str, detail: dict[str, object]) -> str:
    mail = {"timestamp": "2026-11-28T10:00:00.000Z", "messageId": message_id, "destination": [address]}
    return json.dumps({"eventType": kind, key: detail, "mail": mail})


def test_every_other_ses_event_type_lands_on_the_timeline(sent: tuple[Store, list[str]]) -> None:
    store, ids = sent
    ses, address = "0100018c-ses-0", "kim@naver.test"
    delivery = {
        "timestamp": "2026-11-28T10:00:02.000Z",
        "processingTimeMillis": 1900,
        "recipients": [address],
        "smtpResponse": "250 2.0.0 OK",
        "remoteMtaIp": "203.0.113.9",
    }
    lines = [
        info_event("Send", "send", ses, address, {}),
        info_event("Delivery", "delivery", ses, address, delivery),
        info_event(
            "Open",
            "open",
            ses,
            address,
            {"timestamp": "2026-11-28T10:03:00.000Z", "ipAddress": "198.51.100.7"},
        ),
        info_event(
            "Click",
            "click",
            ses,
            address,
            {"link": "https://app.example/verify", "ipAddress": "198.51.100.7"},
        ),
        info_event(
            "Subscription",
            "subscription",
            ses,
            address,
            {"contactList": "news", "source": "UnsubscribeHeader"},
        ),
        info_event("Future Type", "future", ses, address, {}),
    ]
    result = import_ses(store.messages, "\n".join(lines).encode(), now=NOW)
    assert (result.applied, result.delivered, result.ignored, result.unmatched) == (5, 1, 1, 0)
    view = store.messages.message(ids[0])
    assert view is not None
    kinds = [e.type for e in view.events]
    assert kinds[-5:] == ["sent", "delivery_report", "opened", "clicked", "unsubscribed"]
    report = next(e for e in view.events if e.type == "delivery_report")
    assert report.data["smtpResponse"] == "250 2.0.0 OK" and report.data["remoteMtaIp"] == "203.0.113.9"
    assert report.at == datetime(2026, 11, 28, 10, 0, 2, tzinfo=UTC)
    assert view.fate == "delivered"  # information only
    explained = {step.type: step for step in steps(list(view.events))}
    assert "250 2.0.0 OK" in explained["delivery_report"].summary
    assert "203.0.113.9" in explained["delivery_report"].summary
    assert explained["clicked"].summary == "clicked: https://app.example/verify"


def test_reject_and_rendering_failure_reject_the_message(sent: tuple[Store, list[str]]) -> None:
    store, ids = sent
    lines = [
        info_event("Reject", "reject", "0100018c-ses-0", "kim@naver.test", {"reason": "Bad content"}),
        info_event("Rendering Failure", "failure", "0100018c-ses-1", "lee@daum.test",
                   {"errorMessage": "Attribute 'name' is not present", "templateName": "welcome"}),
        info_event("Reject", "reject", "0100018c-nobody", "x@y.test", {"reason": "Bad content"}),
    ]  # fmt: skip
    result = import_ses(store.messages, "\n".join(lines).encode(), now=NOW)
    assert (result.applied, result.unmatched) == (2, 1)
    first, second = store.messages.message(ids[0]), store.messages.message(ids[1])
    assert first is not None and second is not None
    assert first.fate == "rejected" and first.events[-1].data["reason"] == "virusdetected"
    assert first.events[-1].data["detail"] == "Bad content"
    assert second.fate == "rejected" and "not present" in second.events[-1].data["errorMessage"]
