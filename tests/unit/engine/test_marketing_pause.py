"""``[alerts] pause_marketing``: past a critical bounce line, marketing mail from that domain waits
(deferred, reason ``paused``, one ``held`` event) while transactional mail still goes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailfate.client import Client
from mailfate.store import Store
from tests.unit.engine.test_alerts import HARD, OK, send
from tests.unit.engine.test_engine_paths import first_attempt, start_worker, stop_worker


def wait_for_event(client: Client, message_id: str, kind: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(e.type == kind for e in client.message(message_id).events):
            return
        time.sleep(0.02)
    raise AssertionError(f"no {kind} event on {message_id}")


def test_marketing_waits_while_the_bounce_rate_is_past_the_pause_line(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "d" / "mailfate.db")
    now = datetime.now(UTC) - timedelta(minutes=5)
    send(store, 160, "a@bad.example", "naver.test", OK, at=now)
    send(store, 24, "a@bad.example", "naver.test", HARD, at=now)  # 13 % hard bounces: SES would pause
    send(store, 100, "a@good.example", "naver.test", OK, at=now)
    store.close()
    service, thread, loop, stop = start_worker(tmp_path, pause_marketing=True)
    try:
        assert service.engine is not None
        settings = service.settings
        with Client(settings.url, settings=settings) as client:
            held = client.send(
                from_="news@bad.example", to="kim@accept.mailfate.test", subject="sale", text="t",
                category="marketing",
            ).message_id  # fmt: skip
            code = client.send(
                from_="no-reply@bad.example", to="lee@accept.mailfate.test", subject="code", text="1"
            ).message_id
            other = client.send(
                from_="news@good.example", to="park@accept.mailfate.test", subject="sale", text="t",
                category="marketing",
            ).message_id  # fmt: skip
            assert client.wait(code, timeout=20).fate == "delivered"  # transactional mail still goes
            assert client.wait(other, timeout=20).fate == "delivered"  # another domain's marketing too
            wait_for_event(client, held, "held")
            view = client.message(held)
            assert view.fate == "deferred" and view.recipients[0].last_reason == "paused"
            assert view.recipients[0].attempts == 0  # nothing was sent
            [event] = [e for e in view.events if e.type == "held"]
            assert (
                event.data["alert"]["rule"] == "bounce_rate"
                and event.data["alert"]["subject"] == "bad.example"
            )
            assert first_attempt(client, held, timeout=0.5).events[-1].type == "held"
        reader = Store.open(settings.url)
        assert reader.stats.open_counts()["paused"] == 1  # what the dashboard's overview shows
        reader.close()
        assert set(service.engine.paused) == {"bad.example"}
    finally:
        stop_worker(thread, loop, stop)
    fixed = Store.open(tmp_path / "d" / "mailfate.db")
    send(fixed, 600, "a@bad.example", "naver.test", OK, at=datetime.now(UTC))  # 24 of 786: 3 %
    fixed.close()
    service, thread, loop, stop = start_worker(tmp_path, pause_marketing=True)
    try:
        engine = service.engine
        assert engine is not None
        end = time.monotonic() + 20
        while engine._pauses_next == 0 and time.monotonic() < end:  # its first look at the alerts
            time.sleep(0.02)
        assert engine._pauses_next > 0 and engine.paused == {}
    finally:
        stop_worker(thread, loop, stop)
