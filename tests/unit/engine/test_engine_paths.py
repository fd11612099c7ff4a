"""Engine paths beyond the demo: Client.wait, trace --follow, a 60 MB message, a receiver that drops."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mailfate.cli.app import app
from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.runtime import WorkerService


def start_worker(
    tmp_path: Path, simulator: dict[str, Any] | None = None, **overrides: Any
) -> tuple[WorkerService, threading.Thread, asyncio.AbstractEventLoop, asyncio.Event]:
    settings = load_settings(None, data_dir=tmp_path / "d", inbound_port=0, **overrides)
    loop = asyncio.new_event_loop()
    service = WorkerService(settings, simulator_overrides=simulator, simulator_dir=tmp_path / "sim")
    stop = asyncio.Event()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            await service.start()
            ready.set()
            await service.run(stop)

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    return service, thread, loop, stop


def first_attempt(client: Client, message_id: str, timeout: float = 20.0) -> Any:
    """The message once its first attempt is recorded (however busy the machine is)."""
    end = time.monotonic() + timeout
    while True:
        view = client.message(message_id)
        if any(e.type == "attempt" for e in view.events) or time.monotonic() > end:
            return view
        time.sleep(0.02)


def stop_worker(thread: threading.Thread, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()


def test_wait_returns_once_the_fate_is_known_and_trace_follow_streams_to_the_end(tmp_path: Path) -> None:
    service, thread, loop, stop = start_worker(tmp_path)
    try:
        settings = service.settings
        with Client(settings.url, settings=settings) as client:
            sent = client.send(
                from_="no-reply@app.example", to="kim@accept.mailfate.test", subject="s", text="t"
            )
            view = client.wait(sent.message_id, timeout=20)
            assert view.fate == "delivered"
            bounced = client.send(
                from_="no-reply@app.example", to="bounce@simulator.mailfate.test", subject="s", text="t"
            )
            result = CliRunner().invoke(
                app,
                [
                    "trace",
                    bounced.message_id,
                    "--follow",
                    "--json",
                    "--timeout",
                    "20",
                    "--data-dir",
                    str(tmp_path / "d"),
                ],
            )
            assert result.exit_code == 0, result.output
            assert '"outcome": "bounced"' in result.stdout and '"type": "queued"' in result.stdout
            stuck = client.send(
                from_="no-reply@app.example", to="x@greylist.mailfate.test", subject="s", text="t"
            )
            early = first_attempt(client, stuck.message_id)  # greylisted: the next try is 5 minutes away
            assert early.fate == "deferred" and early.recipients[0].next_attempt_at is not None
            assert client.wait(stuck.message_id, timeout=0.5).fate == "deferred"  # wait gives up in time
    finally:
        stop_worker(thread, loop, stop)


def test_a_60_mb_message_is_refused_by_the_receiver_not_lost(tmp_path: Path) -> None:
    service, thread, loop, stop = start_worker(tmp_path)
    try:
        with Client(service.settings.url, settings=service.settings) as client:
            sent = client.send(
                from_="no-reply@app.example",
                to="big@accept.mailfate.test",
                subject="big",
                text=("0123456789" * 99 + "\n") * 60_000,
            )
            view = client.wait(sent.message_id, timeout=60)
        attempt = next(e for e in view.events if e.type == "attempt")
        assert (view.fate, attempt.data["code"], attempt.data["reason"]) == ("bounced", 552, "mesgtoobig")
    finally:
        stop_worker(thread, loop, stop)


def test_a_receiver_that_drops_mid_data_is_never_counted_as_delivered(tmp_path: Path) -> None:
    service, thread, loop, stop = start_worker(tmp_path)
    try:
        with Client(service.settings.url, settings=service.settings) as client:
            sent = client.send(
                from_="no-reply@app.example", to="x@disconnect.mailfate.test", subject="s", text="t"
            )
            view = first_attempt(client, sent.message_id)
        attempts = [e for e in view.events if e.type == "attempt"]
        assert attempts and all(e.data["outcome"] == "deferred" for e in attempts)
        assert view.fate == "deferred" and attempts[0].data["reason"] == "networkerror"
    finally:
        stop_worker(thread, loop, stop)


def test_n_expiries_in_a_row_suppress_the_address(tmp_path: Path) -> None:
    retry = {"first": 30.0, "jitter": 0.0}  # the retry would fall after each message's 2 s deadline
    service, thread, loop, stop = start_worker(tmp_path, suppress_after_soft=2, retry=retry)
    try:
        with Client(service.settings.url, settings=service.settings) as client:
            fates = []
            for i in range(2):
                sent = client.send(
                    from_="no-reply@app.example",
                    to="full@greylist.mailfate.test",
                    subject=f"{i}",
                    text="t",
                    deadline=2.0,
                )
                fates.append(client.wait(sent.message_id, timeout=20).fate)
            assert fates == ["expired", "expired"]
            # the streak is looked at just after the batch that recorded the expiry is written
            deadline = time.monotonic() + 10
            while (
                found := client.store.suppressions.suppression("full@greylist.mailfate.test", "app.example")
            ) is None:
                assert time.monotonic() < deadline, "no suppression after two expiries in a row"
                time.sleep(0.05)
            assert found.reason.startswith("2 soft bounces in a row")
            other = client.send(
                from_="no-reply@app.example",
                to="other@greylist.mailfate.test",
                subject="x",
                text="t",
                deadline=2.0,
            )
            assert client.wait(other.message_id, timeout=20).fate == "expired"
            assert (
                client.store.suppressions.suppression("other@greylist.mailfate.test", "app.example") is None
            )
    finally:
        stop_worker(thread, loop, stop)
