"""Leases that hold: a recipient is delivered once even when each transaction outlasts the lease.

A slow receiver (an aiosmtpd server on 127.0.0.1 that waits longer than the lease before its 250)
and two workers on one store: without renewal every lease ran out mid-transaction, the other
worker (or the same one) claimed the recipient again and the receiver got it twice.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from mailfate.client import Client
from mailfate.config import TransportSettings
from mailfate.model import AttemptRecord, AttemptResult, NewMessage
from mailfate.store import Store
from tests.unit.engine.test_engine_paths import start_worker, stop_worker

LEASE = 2.0
SLOW = 2.6  # seconds the receiver takes per transaction: longer than a lease
N = 30
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
OK = AttemptResult("delivered", 250, "2.0.0", "Ok: queued", "delivered", False)
GREY = AttemptResult("deferred", 451, "4.7.1", "Greylisted", "spamdetected", False)


def new_message(*to: str) -> NewMessage:
    return NewMessage("no-reply@app.example", to, b"Subject: x\r\n\r\nbody\r\n", subject="x")


class SlowReceiver:
    """Counts every 250 it gives, per recipient; each DATA waits ``SLOW`` seconds first."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        self.changed = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(SLOW)  # the one sleep: the slow receiver itself
        with self.changed:
            self.deliveries.update(str(a).lower() for a in envelope.rcpt_tos)
            self.changed.notify_all()
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def receiver() -> Iterator[tuple[SlowReceiver, int]]:
    handler = SlowReceiver()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, hostname="slow.test"), "127.0.0.1", 0)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield handler, int(server.sockets[0].getsockname()[1])
    finally:

        async def close() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_each_message_is_delivered_once_when_transactions_outlast_the_lease(
    store_url: str, tmp_path: Path, receiver: tuple[SlowReceiver, int]
) -> None:
    handler, port = receiver
    relay = TransportSettings("relay", "relay", {"host": "127.0.0.1", "port": port, "tls": "off"})
    options: dict[str, Any] = {
        "store_url": store_url,
        "lease": LEASE,  # below the configuration's floor (5 s): the test stays short
        "transport": "relay",
        "transports": {"relay": relay},
    }
    workers = [start_worker(tmp_path / f"w{i}", **options) for i in range(2)]
    try:
        settings = workers[0][0].settings
        with Client(settings.url, settings=settings) as client:
            ids = [
                client.send(
                    from_="no-reply@app.example", to=f"m{i}@slow.test", subject=f"{i}", text="t"
                ).message_id
                for i in range(N)
            ]
        with handler.changed:
            assert handler.changed.wait_for(lambda: len(handler.deliveries) >= N, timeout=60)
    finally:
        for _, thread, loop, stop in workers:
            stop_worker(thread, loop, stop)  # waits for what is in flight and writes its results
    assert sum(handler.deliveries.values()) == N, {a: n for a, n in handler.deliveries.items() if n > 1}
    store = Store.open(store_url)
    try:
        for mid in ids:
            view = store.messages.message(mid)
            assert view is not None and view.fate == "delivered"
            attempts = [e for e in view.events if e.type == "attempt"]
            assert len(attempts) == 1 and "lease_lost" not in attempts[0].data
    finally:
        store.close()


def test_renew_extends_only_what_the_owner_still_holds(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        store.queue.submit(new_message("a@x.test", "b@x.test"), T0)
        mine = store.queue.claim(1, now=T0, lease=LEASE, owner="A")
        theirs = store.queue.claim(1, now=T0, lease=LEASE, owner="B")
        later = T0 + timedelta(seconds=1)
        renewed = store.queue.renew(
            [mine[0].recipient_id, theirs[0].recipient_id], now=later, lease=LEASE, owner="A"
        )
        assert renewed == {mine[0].recipient_id}
        # past the first lease: A's renewed lease holds, B's ran out and is claimed again
        again = store.queue.claim(5, now=T0 + timedelta(seconds=LEASE + 0.5), lease=LEASE, owner="C")
        assert [c.recipient_id for c in again] == [theirs[0].recipient_id]
    finally:
        store.close()


def test_a_result_recorded_after_the_lease_was_lost_changes_nothing_but_the_timeline(
    store_url: str,
) -> None:
    store = Store.open(store_url)
    try:
        sent = store.queue.submit(new_message("a@x.test"), T0)
        [first] = store.queue.claim(1, now=T0, lease=LEASE, owner="A")
        expired = T0 + timedelta(seconds=LEASE + 1)
        [second] = store.queue.claim(1, now=expired, lease=LEASE, owner="B")  # A's lease ran out
        assert second.recipient_id == first.recipient_id
        lost = store.queue.record_attempts(
            [AttemptRecord(first.recipient_id, GREY, expired, expired + timedelta(minutes=5))], owner="A"
        )
        assert lost == 1
        view = store.messages.recipient(first.recipient_id)
        assert view is not None and view.fate == "sending"  # still B's: A's result moved nothing
        assert store.queue.renew([first.recipient_id], now=expired, lease=LEASE, owner="A") == set()
        assert store.queue.record_attempts([AttemptRecord(second.recipient_id, OK, expired)], owner="B") == 0
        message = store.messages.message(sent.message_id)
        assert message is not None and message.fate == "delivered"
        attempts = [e for e in message.events if e.type == "attempt"]
        assert [(e.data["outcome"], e.data.get("lease_lost", False)) for e in attempts] == [
            ("deferred", True),
            ("delivered", False),
        ]
    finally:
        store.close()
