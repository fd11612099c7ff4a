"""mailfate's webhooks, POSTed by the real sender to a Django project served on 127.0.0.1, become
``mailfate.django.tracking`` signals; forged or altered POSTs are refused and signal nothing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client as DjangoClient

from mailfate.client import Client
from mailfate.config import WebhookSettings
from mailfate.django.tracking import TrackingEvent, event_of, tracking
from mailfate.tracking.webhooks_out import WebhookService, encode, sign
from tests.unit.engine.test_engine_paths import start_worker, stop_worker

SECRET = "django-tests-webhook-secret"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def django_server(settings: Any) -> Iterator[str]:
    settings.MAILFATE = {"WEBHOOK_SECRET": SECRET}
    server: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/mailfate/tracking/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def received() -> Iterator[list[TrackingEvent]]:
    got: list[TrackingEvent] = []

    def on_event(sender: Any, event: TrackingEvent, esp_name: str, **kwargs: Any) -> None:
        assert esp_name == "mailfate"
        got.append(event)

    tracking.connect(on_event, weak=False)
    yield got
    tracking.disconnect(on_event)


def test_delivered_and_bounced_arrive_as_signals(
    tmp_path: Path, django_server: str, received: list[TrackingEvent]
) -> None:
    _, thread, loop, stop = start_worker(tmp_path)
    try:
        with Client(str(tmp_path / "d" / "mailfate.db")) as client:
            ok = client.send(from_="app@app.example", to="ok@accept.mailfate.test", subject="s", text="t")
            gone = client.send(
                from_="app@app.example", to="bounce@simulator.mailfate.test", subject="s", text="t"
            )
            assert client.wait(ok.message_id, 20).fate == "delivered"
            assert client.wait(gone.message_id, 20).fate == "bounced"
            hook = WebhookSettings("django", django_server, SECRET, start="beginning")
            sender = WebhookService(client.store, [hook], settle=None)

            async def run() -> None:
                halt = asyncio.Event()
                task = asyncio.create_task(sender.run(halt))
                deadline = time.monotonic() + 20
                while len({e.event_type for e in received} & {"delivered", "bounced"}) < 2:
                    assert time.monotonic() < deadline, f"signals so far: {received}"
                    await asyncio.sleep(0.02)
                halt.set()
                await asyncio.wait_for(task, 15)

            asyncio.run(run())
    finally:
        stop_worker(thread, loop, stop)
    by_type = {e.event_type: e for e in received}
    assert by_type["queued"].message_id in (ok.message_id, gone.message_id)
    delivered = by_type["delivered"]
    assert delivered.message_id == ok.message_id and delivered.recipient == "ok@accept.mailfate.test"
    assert delivered.mta_response.startswith("250")
    bounced = by_type["bounced"]
    assert bounced.message_id == gone.message_id and bounced.reject_reason == "bounced"
    assert bounced.reason == "userunknown" and bounced.mta_response.startswith("550")
    assert bounced.esp_event["type"] in ("attempt", "bounced")


def _post(client: DjangoClient, body: bytes, header: str) -> Any:
    return client.post(
        "/mailfate/tracking/", data=body, content_type="application/json", HTTP_MAILFATE_SIGNATURE=header
    )


def test_forged_altered_replayed_and_malformed_posts_signal_nothing(
    settings: Any, received: list[TrackingEvent]
) -> None:
    settings.MAILFATE = {"WEBHOOK_SECRET": SECRET}
    body = encode(
        {"id": 7, "type": "complained", "message_id": "m1", "recipient": "kim@naver.com",
         "at": datetime.now(UTC).isoformat(), "outcome": None, "reason": "feedback", "data": {}}
    )  # fmt: skip
    now = int(time.time())
    django = DjangoClient()
    assert _post(django, body, sign("another secret", body, now)).status_code == 403
    assert _post(django, body.replace(b"kim", b"lee"), sign(SECRET, body, now)).status_code == 403
    assert _post(django, body, sign(SECRET, body, now - 3600)).status_code == 403
    assert _post(django, body, "").status_code == 403
    assert received == []
    junk = b"[1, 2, 3]"
    assert _post(django, junk, sign(SECRET, junk, now)).status_code == 400
    alert = encode({"type": "alert", "state": "raised", "at": datetime.now(UTC).isoformat(), "alert": {}})
    assert _post(django, alert, sign(SECRET, alert, now)).status_code == 204
    assert django.get("/mailfate/tracking/").status_code == 405
    assert received == []
    answer = _post(django, body, sign(SECRET, body, now))
    assert answer.status_code == 200
    (event,) = received
    assert (event.event_type, event.reject_reason, event.recipient) == ("complained", "spam", "kim@naver.com")


@pytest.mark.parametrize(
    ("kind", "outcome", "reason", "expected"),
    [
        ("attempt", "deferred", "greylisted", ("deferred", None)),
        ("expired", None, "greylisted", ("bounced", "timed_out")),
        ("suppressed", None, "suppressed", ("rejected", "other")),
        ("attempt", "bounced", "blocked", ("bounced", "blocked")),
        ("autoreplied", None, "vacation", ("autoresponded", None)),
        ("something-new", None, "", ("unknown", None)),
    ],
)
def test_event_types_map_to_anymails(
    kind: str, outcome: str | None, reason: str, expected: tuple[str, str | None]
) -> None:
    payload = {
        "id": 1, "type": kind, "message_id": "m", "recipient": "r@x.test", "at": "2026-12-06T00:00:00+00:00",
        "outcome": outcome, "reason": reason, "data": {"code": 451, "status": "4.7.1", "text": "later"},
    }  # fmt: skip
    event = event_of(json.loads(json.dumps(payload)))
    assert (event.event_type, event.reject_reason) == expected
    assert event.mta_response == "451 4.7.1 later"
