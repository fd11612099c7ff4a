"""Standard Webhooks signatures, checked with the ``standardwebhooks`` library (not our code), on
events and alerts POSTed to a real HTTP receiver on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mailfate.config import WebhookSettings, load_settings
from mailfate.errors import ConfigError
from mailfate.model import NewMessage
from mailfate.store import Store
from mailfate.tracking.alert_push import AlertWatcher
from mailfate.tracking.alerts import Alert
from mailfate.tracking.webhooks_out import WebhookService, sign_standard, standard_key, verify_signature
from tests.support.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def hook(url: str, **kw: object) -> WebhookSettings:
    values: dict[str, object] = {"name": "crm", "url": url, "secret": SECRET, "start": "beginning"}
    values.update(kw)
    return WebhookSettings(**values)  # type: ignore[arg-type]


async def run_until(service: WebhookService, condition: Callable[[], bool]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    deadline = time.monotonic() + 15
    try:
        while not condition():
            assert time.monotonic() < deadline, "the receiver got too little in time"
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def test_events_verify_with_the_standard_webhooks_library(store: Store) -> None:
    now = datetime.now(UTC)  # the library checks the timestamp against the real clock
    for i in range(3):
        store.queue.submit(
            NewMessage("app@app.example", (f"user{i}@naver.test",), b"Subject: x\r\n\r\nx\r\n"), now
        )
    with Receiver() as receiver:
        service = WebhookService(store, [hook(receiver.url, signature="standard")], settle=None)
        asyncio.run(run_until(service, lambda: len(receiver.received()) >= 3))
        got = receiver.received()
    verifier = Webhook(SECRET)
    for r in got:
        payload = verifier.verify(r.body, r.headers)
        assert payload == json.loads(r.body) and r.headers["webhook-id"] == r.event_id
        # the house signature is still there, keyed with the same secret
        assert verify_signature(SECRET, r.headers["mailfate-signature"], r.body)
        tampered = r.body.replace(b"naver", b"nav3r")
        with pytest.raises(WebhookVerificationError):
            verifier.verify(tampered, r.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"another secret, 32 bytes long...").decode()).verify(
                r.body, r.headers
            )
        stale = dict(r.headers, **{"webhook-timestamp": str(int(time.time()) - 3600)})
        with pytest.raises(WebhookVerificationError):
            verifier.verify(r.body, stale)


def test_a_default_subscriber_gets_no_standard_headers(store: Store) -> None:
    store.queue.submit(
        NewMessage("app@app.example", ("u@naver.test",), b"Subject: x\r\n\r\nx\r\n"), datetime.now(UTC)
    )
    with Receiver() as receiver:
        service = WebhookService(store, [hook(receiver.url)], settle=None)
        asyncio.run(run_until(service, lambda: len(receiver.received()) >= 1))
        (r,) = receiver.received()
    assert "webhook-signature" not in r.headers and r.headers["mailfate-signature"].startswith("t=")


def test_alerts_verify_with_the_library(store: Store) -> None:
    alert = Alert("bounce_rate", "critical", "app.example", 0.12, 0.10, "12.0% hard-bounced", "SES")
    with Receiver() as receiver:
        ops = hook(receiver.url, name="ops", events=("alert",), signature="standard")
        watcher = AlertWatcher(store.rollups, [ops], rules=lambda s, now: [alert])
        assert asyncio.run(watcher.check()) == [("raised", alert)]
        (r,) = receiver.received()
    assert Webhook(SECRET).verify(r.body, r.headers)["alert"]["rule"] == "bounce_rate"


def test_the_signature_matches_the_specification_example() -> None:
    """The example of the Standard Webhooks specification (its README's "Signature scheme")."""
    key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert sign_standard(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_", "whsec_not base64!", "whsec_c2hvcnQ="])
def test_a_standard_subscriber_needs_a_whsec_secret(tmp_path: Path, secret: str) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text(
        '[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/x"\n'
        f'secret = "{secret}"\nsignature = "standard"\n'
    )
    store = Store.open(str(tmp_path / "s.db"))
    try:
        with pytest.raises(ConfigError, match=r"signature = \"standard\".*whsec_"):
            WebhookService(store, load_settings(config).webhooks)
    finally:
        store.close()


def test_an_unknown_signature_scheme_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text(
        '[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/x"\nsecret = "s"\nsignature = "svix"\n'
    )
    with pytest.raises(ConfigError, match=r'signature = .svix.: "mailfate" or "standard"'):
        load_settings(config)
