"""SES events go through the one report path: the SES document is kept raw, the events name it, and
a DeliveryDelay becomes ``delayed`` (the same mapping as a delay DSN)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from mailfate.intake.ses import import_ses
from mailfate.model import AttemptRecord, AttemptResult, NewMessage
from mailfate.store import Store

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _sent_through_ses(store: Store, address: str, ses_id: str) -> str:
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
        remote_id=ses_id,
    )
    store.queue.record_attempts([AttemptRecord(claimed.recipient_id, result, NOW)])
    return mid


def test_a_delivery_delay_is_recorded_and_its_document_kept(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    try:
        mid = _sent_through_ses(store, "kim@naver.test", "0100018c-ses-9")
        event = {
            "eventType": "DeliveryDelay",
            "mail": {"messageId": "0100018c-ses-9", "timestamp": "2026-11-28T10:00:00Z", "source": "a@b.c"},
            "deliveryDelay": {
                "timestamp": "2026-11-28T10:10:00Z",
                "delayType": "MailboxFull",
                "delayedRecipients": [
                    {
                        "emailAddress": "kim@naver.test",
                        "status": "4.2.2",
                        "diagnosticCode": "smtp; 452 4.2.2 full",
                    }
                ],
            },
        }
        document = json.dumps(event).encode()
        result = import_ses(store.messages, document, now=NOW)
        assert (result.applied, result.ignored) == (1, 0)
        [delayed] = [e for e in store.messages.events_since(mid, 0) if e.type == "delayed"]
        kept = store.messages.report(int(delayed.data["report_id"]))
        assert kept is not None
        assert (kept.kind, kept.message_id, kept.raw, kept.received_at) == ("ses", mid, document, NOW)
    finally:
        store.close()
