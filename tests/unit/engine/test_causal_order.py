"""A report that arrives while its attempt still waits to be written comes after it on the timeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailfate.delivery.engine import Engine, EngineSettings
from mailfate.delivery.routing import Router
from mailfate.model import AttemptRecord, AttemptResult, Envelope, NewMessage
from mailfate.model.fate import fate_of, fold_step
from mailfate.model.verp import VerpCodec
from mailfate.store import Store
from mailfate.tracking.reports import InboundReport

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class _NoTransport:
    name = "none"

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        raise AssertionError("nothing is delivered in this test")

    async def aclose(self) -> None:
        return None


def test_a_dsn_right_after_the_250_is_stored_after_the_attempt(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    try:
        sent = store.queue.submit(NewMessage("no-reply@app.example", ("kim@example.org",), b"x"), NOW)
        [claimed] = store.queue.claim(1, now=NOW, lease=60, owner="w")
        engine = Engine(
            store,
            Router([], _NoTransport()),
            VerpCodec(b"0123456789abcdef0123", "bounces.app.example"),
            settings=EngineSettings(flush_every=60.0),
            clock=lambda: NOW,
        )
        delivered = AttemptResult("delivered", 250, "2.0.0", "ok: queued as Q1", "delivered", False)
        # The worker's result waits for the next flush (flush_every) ...
        engine._pending.append(AttemptRecord(claimed.recipient_id, delivered, NOW))
        dsn = InboundReport(
            message_id=sent.message_id,
            recipient_id=claimed.recipient_id,
            kind="bounced",
            reason="userunknown",
            hardbounce=True,
            status="5.1.1",
            diagnostic="550 5.1.1 user unknown",
            remote_mta="mx.example.org",
            at=NOW + timedelta(milliseconds=50),
            raw_size=100,
            evidence="status",
        )
        # ... when the DSN about that delivery arrives 50 ms later.
        asyncio.run(engine.on_inbound([dsn], b""))
        events = [
            e
            for e in store.messages.events_since(sent.message_id, 0)
            if e.recipient_id == claimed.recipient_id
        ]
        assert [e.type for e in events if e.type in ("attempt", "bounced")] == ["attempt", "bounced"]
        folded = fate_of(fold_step(e.type, e.data) for e in events)
        view = store.messages.recipient(claimed.recipient_id)
        assert view is not None and str(view.fate) == str(folded) == "bounced"
        engine.store_thread.shutdown(wait=True)
    finally:
        store.close()
