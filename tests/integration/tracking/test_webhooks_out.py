"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1, on SQLite and PostgreSQL: signed
POSTs in order, retries with backoff (on an injected clock: hours pass in milliseconds), failure
after max_attempts, durability across a restart, the delivery log, the alert watcher, config."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailfate.config import WebhookSettings, load_settings
from mailfate.errors import ConfigError
from mailfate.model import NewMessage
from mailfate.store import Store
from mailfate.tracking.alert_push import AlertWatcher
from mailfate.tracking.alerts import Alert
from mailfate.tracking.webhooks_out import (
    WebhookService,
    backoff,
    encode,
    sign,
    signature_problem,
    verify_signature,
)
from tests.support.webhook_receiver import Receiver

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
SECRET = "whsec_test_0123456789"


class FakeTime:
    """The service's clock and sleep: a sleep moves the clock at once (and yields for a moment)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0.002)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def add_events(store: Store, n: int, at: datetime = NOW) -> list[int]:
    """``n`` messages of one recipient each: one ``queued`` event each; their ids."""
    before = {e.id for e in store.messages.events_after(0, 10_000)}
    for i in range(n):
        store.queue.submit(
            NewMessage("app@app.example", (f"user{i}@naver.test",), b"Subject: x\r\n\r\nx\r\n"), at
        )
    return [e.id for e in store.messages.events_after(0, 10_000) if e.id not in before]


def hook(url: str, **kw: Any) -> WebhookSettings:
    values: dict[str, Any] = {
        "name": "crm",
        "url": url,
        "secret": SECRET,
        "start": "beginning",
        "timeout": 5.0,
    }
    values.update(kw)
    return WebhookSettings(**values)


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def run_until(service: WebhookService, condition: Callable[[], bool]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(condition)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


# -- signatures ---------------------------------------------------------------------------------
def test_signature_verifies_with_the_secret_and_fails_otherwise() -> None:
    body = b'{"id":1,"type":"queued"}'
    header = sign(SECRET, body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, body, now=1_700_000_100)
    assert verify_signature(SECRET.encode(), header, body.decode(), now=1_700_000_000)
    assert not verify_signature("another-secret", header, body, now=1_700_000_000)
    assert not verify_signature(SECRET, header, body.replace(b"1", b"2"), now=1_700_000_000)
    assert not verify_signature(SECRET, header, body, now=1_700_000_000 + 301)  # replayed later
    assert verify_signature(SECRET, header, body, tolerance=400, now=1_700_000_000 + 301)
    assert signature_problem(SECRET, header, body, now=1_700_000_000 + 301) == (
        "the timestamp is 301 s old (tolerance 300 s)"
    )
    stamp = header.split(",")[0]
    assert not verify_signature(SECRET, f"{stamp},v1=", body, now=1_700_000_000)
    assert signature_problem(SECRET, "v1=abc", body) == "no timestamp (t=...) in the signature header"
    assert signature_problem(SECRET, "t=١٧,v1=abc", body) == "no timestamp (t=...) in the signature header"
    assert not verify_signature(SECRET, f"{header.split(',')[0]},v1=é", body, now=1_700_000_000)
    assert signature_problem(SECRET, stamp, body, now=1_700_000_000) == "no v1=... signature in the header"
    rotated = f"{stamp},v1={'0' * 64},{header.split(',')[1]}"  # a rotation: one of several matches
    assert verify_signature(SECRET, rotated, body, now=1_700_000_000)


def test_backoff_doubles_from_5_seconds_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 13)] == [
        5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600,
    ]  # fmt: skip


# -- delivery -----------------------------------------------------------------------------------
def test_every_event_is_posted_in_order_signed_and_logged(store: Store, receiver: Receiver) -> None:
    ids = add_events(store, 5)
    fake = FakeTime(NOW + timedelta(hours=1))
    service = WebhookService(store, [hook(receiver.url)], clock=fake.clock, sleep=fake.sleep)
    asyncio.run(run_until(service, lambda: len(receiver.received()) >= 5))
    got = receiver.received()
    assert [int(r.event_id) for r in got] == ids
    first = got[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"] == "mailfate/1"
    stamp = int(fake.now.timestamp())
    for r in got:
        assert verify_signature(SECRET, r.headers["mailfate-signature"], r.body, now=stamp)
        assert not verify_signature("wrong", r.headers["mailfate-signature"], r.body, now=stamp)
    payload = json.loads(first.body)
    assert set(payload) == {"id", "type", "message_id", "recipient", "at", "outcome", "reason", "data"}
    assert payload["id"] == ids[0] and payload["type"] == "queued"
    assert payload["recipient"] == "user0@naver.test" and payload["at"] == NOW.isoformat()
    state = store.webhooks.webhook_state("crm")
    assert state is not None and state.position == ids[-1] and state.attempts == 0
    log = store.webhooks.webhook_log(subscriber="crm")
    assert [(e.event_id, e.outcome, e.attempt, e.status_code) for e in reversed(log)] == [
        (i, "delivered", 1, 200) for i in ids
    ]
    assert store.webhooks.count_events_after(state.position) == 0


def test_a_failing_receiver_is_retried_with_backoff_and_order_is_kept(store: Store) -> None:
    ids = add_events(store, 3)
    fake = FakeTime(NOW + timedelta(hours=1))
    with Receiver(fail_first=4, fail_status=503) as receiver:
        service = WebhookService(store, [hook(receiver.url)], clock=fake.clock, sleep=fake.sleep)
        asyncio.run(run_until(service, lambda: len(receiver.delivered_ids()) >= 3))
        assert receiver.delivered_ids() == ids
        assert [int(r.event_id) for r in receiver.received()][:5] == [ids[0]] * 5
    log = list(reversed(store.webhooks.webhook_log(subscriber="crm")))
    head = [e for e in log if e.event_id == ids[0]]
    assert [(e.attempt, e.outcome, e.status_code) for e in head] == [
        (1, "retry", 503), (2, "retry", 503), (3, "retry", 503), (4, "retry", 503), (5, "delivered", 200),
    ]  # fmt: skip
    assert head[0].error == "HTTP 503: no"
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(head)]
    assert gaps == [5, 10, 20, 40]
    state = store.webhooks.webhook_state("crm")
    assert state is not None and state.position == ids[-1] and state.last_error == ""


def test_failed_after_max_attempts_then_the_next_event_goes(store: Store) -> None:
    ids = add_events(store, 2)
    fake = FakeTime(NOW + timedelta(hours=1))
    with Receiver(fail_first=3) as receiver:
        service = WebhookService(
            store, [hook(receiver.url, max_attempts=3)], clock=fake.clock, sleep=fake.sleep
        )
        asyncio.run(run_until(service, lambda: len(receiver.delivered_ids()) >= 1))
        assert receiver.delivered_ids() == [ids[1]]
    log = list(reversed(store.webhooks.webhook_log()))
    assert [(e.event_id, e.attempt, e.outcome) for e in log] == [
        (ids[0], 1, "retry"), (ids[0], 2, "retry"), (ids[0], 3, "failed"), (ids[1], 1, "delivered"),
    ]  # fmt: skip
    assert store.webhooks.webhook_state("crm").position == ids[1]  # type: ignore[union-attr]


def test_network_errors_and_timeouts_are_retries(store: Store) -> None:
    [event_id] = add_events(store, 1)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    fake = FakeTime(NOW + timedelta(hours=1))
    service = WebhookService(store, [hook(closed)], clock=fake.clock, sleep=fake.sleep)
    asyncio.run(run_until(service, lambda: len(store.webhooks.webhook_log()) >= 2))
    first = store.webhooks.webhook_log()[-1]
    assert first.outcome == "retry" and first.status_code is None and "Connect" in first.error
    assert store.webhooks.webhook_state("crm").position < event_id  # type: ignore[union-attr]
    with Receiver(hold_at=1) as slow:
        service = WebhookService(
            store, [hook(slow.url, name="slow", timeout=0.2)], clock=fake.clock, sleep=fake.sleep
        )
        asyncio.run(run_until(service, lambda: len(store.webhooks.webhook_log(subscriber="slow")) >= 1))
        slow.release()
    timed_out = store.webhooks.webhook_log(subscriber="slow")[-1]
    assert timed_out.outcome == "retry" and timed_out.status_code is None
    assert "timed out" in timed_out.error or "Timeout" in timed_out.error


def test_a_restart_resumes_at_the_stored_position_without_losing_an_event(
    store_url: str, receiver: Receiver
) -> None:
    first_store = Store.open(store_url)
    ids = add_events(first_store, 10)
    receiver.hold_at = 4  # the 4th POST hangs until the process is gone
    fake = FakeTime(NOW + timedelta(hours=1))

    async def crash() -> None:
        service = WebhookService(first_store, [hook(receiver.url)], clock=fake.clock, sleep=fake.sleep)
        task = asyncio.create_task(service.run(asyncio.Event()))
        await until(lambda: len(receiver.received()) >= 4)
        task.cancel()  # killed with the 4th POST in flight
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(crash())
    receiver.release()
    state = first_store.webhooks.webhook_state("crm")
    assert state is not None and state.position == ids[2]
    first_store.close()
    second_store = Store.open(store_url)  # a new process on the same store
    try:
        service = WebhookService(second_store, [hook(receiver.url)], clock=fake.clock, sleep=fake.sleep)
        asyncio.run(run_until(service, lambda: ids[-1] in receiver.delivered_ids()))
        got = [int(r.event_id) for r in receiver.received()]
        assert got == [*ids[:4], *ids[3:]]  # the in-flight one twice, nothing lost, in order
        assert second_store.webhooks.webhook_state("crm").position == ids[-1]  # type: ignore[union-attr]
        assert len(second_store.webhooks.webhook_log(subscriber="crm")) == 10  # the crashed POST left no row
    finally:
        second_store.close()


def test_unwanted_events_are_passed_over_and_a_new_subscriber_starts_at_the_latest(
    store: Store, receiver: Receiver
) -> None:
    old = add_events(store, 3)
    fake = FakeTime(NOW + timedelta(hours=1))
    only_bounces = hook(receiver.url, name="bounces", events=("bounced",))
    latest = hook(receiver.url + "/latest", name="latest", start="latest")
    service = WebhookService(store, [only_bounces, latest], clock=fake.clock, sleep=fake.sleep)

    def both_started() -> bool:
        states = {s.subscriber: s.position for s in store.webhooks.webhook_states()}
        return states.get("bounces") == old[-1] and "latest" in states

    asyncio.run(run_until(service, both_started))
    assert receiver.received() == []  # no bounce yet, and "latest" began after the old events
    new = add_events(store, 1)
    service = WebhookService(store, [only_bounces, latest], clock=fake.clock, sleep=fake.sleep)
    asyncio.run(run_until(service, lambda: len(receiver.received()) >= 1))
    assert [(r.path, int(r.event_id)) for r in receiver.received()] == [("/latest", new[0])]
    assert store.webhooks.webhook_log(subscriber="bounces") == []


def test_events_newer_than_the_settle_delay_wait(store: Store, receiver: Receiver) -> None:
    [event_id] = add_events(store, 1)
    fake = FakeTime(NOW + timedelta(seconds=1))
    stopped = asyncio.Event()

    async def sleep(seconds: float) -> None:  # time stands still until the test moves it
        if stopped.is_set():
            await fake.sleep(seconds)
        else:
            await asyncio.sleep(0.005)

    async def main() -> None:
        service = WebhookService(
            store, [hook(receiver.url)], clock=fake.clock, sleep=sleep, settle=timedelta(seconds=2)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        await until(lambda: store.webhooks.webhook_state("crm") is not None)
        for _ in range(20):  # several rounds see the event and leave it: it is too recent
            await asyncio.sleep(0.005)
        assert receiver.received() == []
        stopped.set()  # now time moves on: 1 s later the event is old enough
        await until(lambda: len(receiver.received()) == 1)
        stop.set()
        await task

    asyncio.run(main())
    assert receiver.delivered_ids() == [event_id]


def test_one_sender_per_subscriber_holds_the_lease(store: Store) -> None:
    [event_id] = add_events(store, 1)
    a = store.webhooks.claim_webhook("crm", "a", at=NOW, until=NOW + timedelta(seconds=60), from_start=True)
    assert a is not None and a.position == 0 and a.lease_owner == "a"
    assert store.webhooks.claim_webhook("crm", "b", at=NOW, until=NOW + timedelta(seconds=60)) is None
    later = NOW + timedelta(seconds=61)  # a's lease ran out: b takes over
    b = store.webhooks.claim_webhook("crm", "b", at=later, until=later + timedelta(seconds=60))
    assert b is not None and b.lease_owner == "b"
    kept = store.webhooks.record_webhook(
        "crm",
        "a",
        event_id,
        at=later,
        attempt=1,
        outcome="delivered",
        status_code=200,
        error="",
        duration_ms=3,
    )
    assert not kept  # a's POST is logged, but the position is b's to move
    assert store.webhooks.webhook_state("crm").position == 0  # type: ignore[union-attr]
    assert [e.outcome for e in store.webhooks.webhook_log()] == ["delivered"]
    assert store.webhooks.record_webhook(
        "crm", "b", event_id, at=later, attempt=1, outcome="retry", status_code=None, error="x",
        duration_ms=1, next_at=later + backoff(1),
    )  # fmt: skip
    state = store.webhooks.webhook_state("crm")
    assert state is not None and state.attempts == 1 and state.next_at == later + timedelta(seconds=5)
    store.webhooks.release_webhook("crm", "b")
    assert store.webhooks.claim_webhook("crm", "c", at=later, until=later + timedelta(seconds=60)) is not None
    assert store.webhooks.claim_webhook("new", "c", at=later, until=later).position == event_id  # type: ignore[union-attr]


# -- alerts -------------------------------------------------------------------------------------
def test_alert_watcher_logs_and_posts_raised_then_cleared(
    store: Store, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    bounce = Alert("bounce_rate", "critical", "app.example", 0.12, 0.10, "12.0% hard-bounced", "SES")
    active: list[Alert] = [bounce]
    fake = FakeTime(NOW)
    alerts_hook = hook(receiver.url + "/alerts", name="ops", events=("alert",))
    events_hook = hook(receiver.url + "/events", name="crm", events=("*",))
    watcher = AlertWatcher(
        store.rollups,
        [alerts_hook, events_hook],
        clock=fake.clock,
        sleep=fake.sleep,
        rules=lambda s, now: list(active),
    )

    async def main() -> None:
        with caplog.at_level(logging.WARNING, logger="mailfate.tracking.alert_push"):
            assert await watcher.check() == [("raised", bounce)]
            assert await watcher.check() == []  # still active: nothing new
            active.clear()
            assert await watcher.check() == [("cleared", bounce)]

    asyncio.run(main())
    got = receiver.received()
    assert [r.path for r in got] == ["/alerts", "/alerts"]
    stamp = int(NOW.timestamp())
    bodies = [json.loads(r.body) for r in got]
    assert [(b["type"], b["state"]) for b in bodies] == [("alert", "raised"), ("alert", "cleared")]
    assert bodies[0]["alert"]["rule"] == "bounce_rate" and bodies[0]["alert"]["threshold"] == 0.10
    for r in got:
        assert verify_signature(SECRET, r.headers["mailfate-signature"], r.body, now=stamp)
    records = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(records) == 2
    for state, record in zip(("raised", "cleared"), records, strict=True):
        text = record.getMessage()
        assert state in text and "bounce_rate" in text and "app.example" in text
        assert "0.12" in text and "0.1" in text


def test_alert_watcher_retries_a_failing_receiver_and_runs_on_its_interval(store: Store) -> None:
    spike = Alert("deferral_spike", "warning", "naver.test", 0.8, 0.5, "80 % deferred", "mailfate")
    fake = FakeTime(NOW)
    calls: list[datetime] = []

    def rules(_: object, now: datetime) -> list[Alert]:
        calls.append(now)
        return [spike]

    with Receiver(fail_first=2) as receiver:
        watcher = AlertWatcher(
            store.rollups,
            [hook(receiver.url, events=("alert",))],
            interval=60,
            clock=fake.clock,
            sleep=fake.sleep,
            rules=rules,
        )

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(watcher.run(stop))
            await until(lambda: len(calls) >= 3)
            stop.set()
            await task

        asyncio.run(main())
        assert [r.status for r in receiver.received()] == [500, 500, 200]  # raised once, third try
    assert (calls[1] - calls[0]).total_seconds() >= 60


def test_the_default_rules_run_on_a_store(store: Store) -> None:
    watcher = AlertWatcher(store.rollups, [])
    assert asyncio.run(watcher.check()) == []  # an empty store crosses no threshold


# -- configuration ------------------------------------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR", "MAILFATE_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailfate.toml"
    path.write_text(text, "utf-8")
    return path


def test_webhooks_config_is_read_and_checked(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        '[[webhooks]]\nname = "crm"\nurl = "https://hooks.example.com/in"\nsecret_env = "CRM_SECRET"\n'
        'events = ["bounced", "complained", "alert"]\ntimeout = 3\nmax_attempts = 5\n'
        '[[webhooks]]\nname = "all"\nurl = "http://127.0.0.1:9/x"\nsecret = "s"\n'
        "[alerts]\ninterval = 30\n",
    )
    settings = load_settings(path)
    crm, every = settings.webhooks
    assert (crm.name, crm.events, crm.timeout, crm.max_attempts) == (
        "crm", ("bounced", "complained", "alert"), 3.0, 5,
    )  # fmt: skip
    assert crm.wants("bounced") and crm.wants("alert") and not crm.wants("queued")
    assert every.events == ("*",) and every.wants("queued") and not every.wants("alert")
    assert every.max_attempts == 12 and every.start == "latest" and settings.alert_interval == 30
    store = Store.open(tmp_path / "s.db")
    try:
        with pytest.raises(ConfigError, match=r"\$CRM_SECRET is empty or unset"):
            WebhookService(store, [crm])
    finally:
        store.close()
    clean_env.setenv("CRM_SECRET", "from-env")
    assert crm.signing_key() == b"from-env"


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('name = "a"\nurl = "https://x.example/h"\n', "one without a secret is refused"),
        ('name = "a"\nurl = "https://x.example/h"\nsecret = ""\n', "one without a secret is refused"),
        ('name = "a"\nurl = "ftp://x.example/h"\nsecret = "s"\n', "give an http:// or https:// URL"),
        ('name = "a"\nurl = "https:///nohost"\nsecret = "s"\n', "give an http:// or https:// URL"),
        ('name = "a"\nurl = "https://x.example"\nsecret = "s"\nevents = ["nonsense"]\n', "events = "),
        ('name = "a"\nurl = "https://x.example"\nsecret = "s"\nmax_attempts = 0\n', "max_attempts = 0"),
        ('name = "a b"\nurl = "https://x.example"\nsecret = "s"\n', "give a stable name"),
        ('name = "a"\nurl = "https://x.example"\nsecret = "s"\nsecrets = "t"\n', "unknown key 'secrets'"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, entry: str, complaint: str
) -> None:
    path = write(tmp_path, "[[webhooks]]\n" + entry)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value) and "webhooks[0]" in str(caught.value)
    assert complaint in str(caught.value)


def test_two_webhooks_with_one_name_and_the_environment_subscriber(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    entry = '[[webhooks]]\nname = "a"\nurl = "https://x.example"\nsecret = "s"\n'
    with pytest.raises(ConfigError, match="two webhooks named 'a'"):
        load_settings(write(tmp_path, entry * 2))
    clean_env.setenv("MAILFATE_WEBHOOK_URL", "https://hooks.example.com/env")
    with pytest.raises(ConfigError, match="MAILFATE_WEBHOOK_SECRET"):
        load_settings()
    clean_env.setenv("MAILFATE_WEBHOOK_SECRET", "env-secret")
    [env] = load_settings().webhooks
    assert (env.name, env.url, env.signing_key(), env.events) == (
        "env", "https://hooks.example.com/env", b"env-secret", ("*",),
    )  # fmt: skip


def test_the_service_refuses_a_subscriber_it_cannot_sign_for(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    try:
        with pytest.raises(ConfigError, match="without one is refused"):
            WebhookService(store, [WebhookSettings("a", "https://x.example")])
        with pytest.raises(ConfigError, match="http:// or https://"):
            WebhookService(store, [WebhookSettings("a", "file:///etc/passwd", secret="s")])
        with pytest.raises(ConfigError, match="share a name"):
            WebhookService(store, [hook("https://x.example"), hook("https://y.example")])
    finally:
        store.close()
    assert encode({"k": "한"}) == '{"k":"한"}'.encode()
