"""``format = "ses"``: mailfate's events as Amazon SES publishes them through SNS, read by code
written for SES that nobody here wrote — django-anymail's Amazon SES tracking webhook, served by a
real Django project on 127.0.0.1 and fed by the real webhook sender."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core.handlers.wsgi import WSGIHandler

from mailfate.client import Client
from mailfate.config import WebhookSettings
from mailfate.tracking.webhooks_out import WebhookService
from tests.unit.engine.test_engine_paths import start_worker, stop_worker


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def anymail_url() -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:  # anymail's WEBHOOK_SECRET is HTTP basic auth, given in the URL as SNS would be set up
        yield f"http://anymail:tests-only@127.0.0.1:{server.server_port}/anymail/amazon_ses/tracking/"
    finally:
        server.shutdown()
        server.server_close()


def test_anymails_ses_webhook_reads_mailfates_events(tmp_path: Path, anymail_url: str) -> None:
    got: list[AnymailTrackingEvent] = []

    def on_event(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        assert esp_name == "Amazon SES"
        got.append(event)

    tracking.connect(on_event, weak=False)
    _, thread, loop, stop = start_worker(tmp_path)
    try:
        with Client(str(tmp_path / "d" / "mailfate.db")) as client:
            ok = client.send(from_="app@app.example", to="ok@accept.mailfate.test", subject="s", text="t",
                             tags=["signup"])  # fmt: skip
            gone = client.send(
                from_="app@app.example", to="bounce@simulator.mailfate.test", subject="s", text="t"
            )
            grey = client.send(
                from_="app@app.example", to="kim@greylist.mailfate.test", subject="s", text="t"
            )
            assert client.wait(ok.message_id, 20).fate == "delivered"
            assert client.wait(gone.message_id, 20).fate == "bounced"
            hook = WebhookSettings("anymail", anymail_url, "s", start="beginning", format="ses")
            sender = WebhookService(client.store, [hook], settle=None)

            async def run() -> None:
                halt = asyncio.Event()
                task = asyncio.create_task(sender.run(halt))
                deadline = time.monotonic() + 20
                while {"delivered", "bounced", "unknown"} - {e.event_type for e in got}:
                    assert time.monotonic() < deadline, f"anymail got {[e.event_type for e in got]}"
                    await asyncio.sleep(0.02)
                halt.set()
                await asyncio.wait_for(task, 15)

            asyncio.run(run())
            log = client.store.webhooks.webhook_log(subscriber="anymail")
    finally:
        stop_worker(thread, loop, stop)
        tracking.disconnect(on_event)
    assert {e.outcome for e in log} == {"delivered"}, [e.error for e in log]
    by_type: dict[str, list[AnymailTrackingEvent]] = {}
    for event in got:
        by_type.setdefault(event.event_type, []).append(event)
    sent = {e.message_id for e in by_type["sent"]}
    assert {ok.message_id, gone.message_id, grey.message_id} <= sent
    (delivered,) = by_type["delivered"]
    assert (delivered.message_id, delivered.recipient) == (ok.message_id, "ok@accept.mailfate.test")
    assert delivered.mta_response.startswith("250") and delivered.tags == ["signup"]
    (bounced,) = by_type["bounced"]
    assert (bounced.message_id, bounced.recipient) == (gone.message_id, "bounce@simulator.mailfate.test")
    assert bounced.reject_reason == "bounced" and bounced.description == "Permanent: NoEmail"
    assert "550" in bounced.mta_response
    # anymail 15 has no branch for SES's DeliveryDelay: it passes it on as "unknown" with the SES
    # JSON, exactly as it does for Amazon's own DeliveryDelay events
    (deferred,) = by_type["unknown"]
    assert (
        deferred.message_id == grey.message_id
        and deferred.description == "Unknown SES eventType 'DeliveryDelay'"
    )
    ses = deferred.esp_event
    assert ses["deliveryDelay"]["delayedRecipients"][0]["diagnosticCode"].startswith("smtp; 4")
    assert ses["eventType"] == "DeliveryDelay" and ses["mail"]["destination"] == [
        "kim@greylist.mailfate.test"
    ]
    assert json.dumps(ses)  # the SES JSON as published, kept by anymail for the handler
