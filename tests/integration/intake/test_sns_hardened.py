"""The SNS endpoint against hostile requests (issue 13): malformed bodies are 400 (never 500), no
certificate is fetched for a message that could not verify anyway, a hanging certificate fetch
never holds the rest of the API, and a replay is refused after a restart (the ids are in the store)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.intake.api.app import create_app
from mailfate.intake.sns import MAX_BODY, SnsMalformed, SnsVerifier, fetch_https
from mailfate.store import Store
from tests.unit.intake.test_sns import CERT_URL, PEM, TOPIC, bounce, notification, signed

NOW = dt.datetime.now(dt.UTC)


@contextmanager
def serving(store: Store, verifier: SnsVerifier, tmp_path: Path, workers: int = 6) -> Iterator[str]:
    """The API on a real uvicorn at 127.0.0.1, its loop's default executor ``workers`` threads wide
    (what asyncio gives a 2-CPU machine), whatever this machine has."""
    app = create_app(store, Client(store, settings=load_settings(None, data_dir=tmp_path)), sns=verifier)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    executor = ThreadPoolExecutor(workers, thread_name_prefix="default")

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(executor)
        await server.serve()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        executor.shutdown(wait=False, cancel_futures=True)
        verifier.close()


class Recorder:
    """A fetch that counts its calls and answers the test certificate (or raises ``error``)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.urls: list[str] = []
        self.error = error

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        return PEM if url == CERT_URL else b"confirmed"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "s.db")
    yield opened
    opened.close()


def post(url: str, body: dict[str, Any] | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}/v1/ses/sns", content=content, timeout=10)


def good(message_id: str, **over: Any) -> dict[str, Any]:
    return signed(notification(bounce("ses-1", "kim@naver.test"), message_id, **over))


def _malformed() -> list[tuple[str, bytes]]:
    body = good("m-1")
    cases: list[tuple[str, bytes]] = [
        ("not JSON", b"{not json"),
        ("not UTF-8", b"\xff\xfe\xfa"),
        ("an array", b"[]"),
        ("a string", b'"Notification"'),
        ("a number", b"1e999"),
        ("50,000 brackets", b"[" * 50_000 + b"]" * 50_000),
        ("50,000 objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("deep in a field", b'{"Type": "Notification", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    ]
    wrong: dict[str, Any] = {
        "Type": 5,
        "TopicArn": ["arn"],
        "MessageId": 7,
        "Message": {"notificationType": "Bounce"},
        "Subject": 3,
        "Timestamp": 1764000000,
        "Signature": None,
        "SignatureVersion": 2,
        "SigningCertURL": {"url": CERT_URL},
        "UnsubscribeURL": False,
    }
    for name, value in wrong.items():
        cases.append((f"{name}={value!r}", json.dumps({**body, name: value}).encode()))
    for name in ("Type", "TopicArn", "MessageId", "Message", "Timestamp", "Signature", "SigningCertURL"):
        cases.append((f"no {name}", json.dumps({k: v for k, v in body.items() if k != name}).encode()))
    cases += [
        ("unknown Type", json.dumps({**body, "Type": "Surprise"}).encode()),
        ("SignatureVersion 3", json.dumps({**body, "SignatureVersion": "3"}).encode()),
        ("naive Timestamp", json.dumps({**body, "Timestamp": "2026-12-06T00:00:00"}).encode()),
        ("no time", json.dumps({**body, "Timestamp": "yesterday"}).encode()),
        ("empty MessageId", json.dumps({**body, "MessageId": ""}).encode()),
        ("long MessageId", json.dumps({**body, "MessageId": "m" * 129}).encode()),
        ("lone surrogate", json.dumps({**body, "Type": "\ud800"}).encode()),
    ]
    return cases


@pytest.mark.parametrize(("what", "raw"), _malformed(), ids=[c[0] for c in _malformed()])
def test_malformed_bodies_are_400_and_fetch_nothing(
    store: Store, tmp_path: Path, what: str, raw: bytes
) -> None:
    fetch = Recorder()
    with serving(store, SnsVerifier([TOPIC], fetch=fetch, seen=store.sns), tmp_path) as url:
        answer = post(url, raw)
    assert answer.status_code == 400, (what, answer.text)
    assert answer.json()["detail"].startswith("refused: ")
    assert fetch.urls == []


def test_an_oversized_body_is_413(store: Store, tmp_path: Path) -> None:
    body = json.dumps({**good("m-1"), "Padding": "x" * MAX_BODY}).encode()
    fetch = Recorder()
    with serving(store, SnsVerifier([TOPIC], fetch=fetch, seen=store.sns), tmp_path) as url:
        assert post(url, body).status_code == 413
        assert post(url, good("m-2")).status_code == 200  # a real one still passes
    assert fetch.urls == [CERT_URL]


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not base64!!",
        "QUJD",  # 3 bytes
        base64.b64encode(b"x" * 255).decode(),  # one short of RSA 2048
        base64.b64encode(b"x" * 257).decode(),
        base64.b64encode(b"x" * 256).decode()[:-2],  # cut: bad padding
        "x" * 2000,
    ],
    ids=["empty", "not base64", "3 bytes", "255 bytes", "257 bytes", "cut", "too long"],
)
def test_a_malformed_signature_fetches_nothing(store: Store, signature: str) -> None:
    fetch = Recorder()
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)
    with pytest.raises(SnsMalformed) as caught:
        verifier.verify({**good("m-1"), "Signature": signature})
    assert caught.value.status_code == 400
    assert fetch.urls == []
    verifier.close()


@pytest.mark.parametrize(
    "over",
    [
        {"TopicArn": "arn:aws:sns:us-east-1:1:evil"},
        {"SigningCertURL": "http://sns.us-east-1.amazonaws.com/c.pem"},
        {"SigningCertURL": "https://sns.us-east-1.amazonaws.com:8443/c.pem"},
        {"SigningCertURL": "https://sns.us-east-1.amazonaws.com/c.pem?a=1"},
        {"SigningCertURL": "https://sns.us-east-1.amazonaws.com/c.txt"},
        {"SigningCertURL": "https://me@sns.us-east-1.amazonaws.com/c.pem"},
        {"SigningCertURL": "https://sns.us-east-1.amazonaws.com.evil.example/c.pem"},
        {"SigningCertURL": "https://[::1/c.pem"},
        {"SigningCertURL": "https://sns.us-east-1.amazonaws.com:99999/c.pem"},
        {"Timestamp": (NOW - dt.timedelta(hours=2)).isoformat()},
        {"Timestamp": (NOW + dt.timedelta(hours=1)).isoformat()},
    ],
)
def test_a_foreign_or_stale_message_is_403_and_fetches_nothing(store: Store, over: dict[str, str]) -> None:
    fetch = Recorder()
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)
    body = signed(notification(bounce("ses-1", "kim@naver.test"), "m-1", **over))
    with pytest.raises(InputError):
        verifier.verify(body)
    assert fetch.urls == []
    verifier.close()


def test_a_replay_is_refused_before_any_fetch(store: Store) -> None:
    first = SnsVerifier([TOPIC], fetch=Recorder(), seen=store.sns)
    first.verify(good("m-1"))
    first.close()
    fetch = Recorder()
    fresh = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)  # no certificate cached
    with pytest.raises(InputError, match="seen before"):
        fresh.verify(good("m-1"))
    assert fetch.urls == []
    fresh.close()


def test_a_failed_fetch_is_503_and_remembered(store: Store) -> None:
    fetch = Recorder(OSError("connection refused"))
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)
    for n in range(3):
        with pytest.raises(Exception, match="could not be fetched") as caught:
            verifier.verify(good(f"m-{n}"))
        assert getattr(caught.value, "status_code", None) == 503  # SNS retries 5xx, never 4xx
    assert fetch.urls == [CERT_URL]  # one fetch: the failure is remembered
    assert not store.sns.sns_seen("m-0", now=NOW)  # not taken: SNS's retry may pass
    verifier.close()

    fetch = Recorder(OSError("connection refused"))
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns, failure_ttl=0.0)
    for n in range(2):
        with pytest.raises(Exception, match="could not be fetched"):
            verifier.verify(good(f"m-{n}"))
    assert len(fetch.urls) == 2  # remembered for failure_ttl only
    fetch.error = None
    verifier.verify(good("m-0"))
    verifier.close()


def test_a_certificate_is_fetched_once(store: Store) -> None:
    fetch = Recorder()
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)
    for n in range(5):
        verifier.verify(good(f"m-{n}"))
    assert fetch.urls == [CERT_URL]
    verifier.close()


class HangingCertServer:
    """An HTTP server on 127.0.0.1 that holds every request until ``release`` is set."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                outer.arrived.set()
                outer.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", str(len(PEM)))
                self.end_headers()
                self.wfile.write(PEM)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cert.pem"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HangingCertServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def fetch(self) -> Callable[[str], bytes]:
        return lambda url: fetch_https(self.url, timeout=30)


def test_a_hanging_certificate_fetch_does_not_hold_the_api(store: Store, tmp_path: Path) -> None:
    key = store.keys.create_key({"read"}, at=NOW)
    with HangingCertServer() as cert_server:
        verifier = SnsVerifier([TOPIC], fetch=cert_server.fetch(), seen=store.sns, fetch_timeout=30)
        with serving(store, verifier, tmp_path, workers=6) as url, ThreadPoolExecutor(12) as pool:
            posts = [pool.submit(post, url, good(f"h-{n}")) for n in range(12)]
            early = []
            for done in as_completed(posts, timeout=10):  # all but the waiters answer at once
                early.append(done)
                if len(early) == 10:
                    break
            assert [f.result().status_code for f in early] == [503] * 10
            assert all(f.result().headers["Retry-After"] for f in early)
            assert cert_server.arrived.wait(10)

            started = time.monotonic()
            other = httpx.get(f"{url}/v1/stats", headers={"Authorization": f"Bearer {key}"}, timeout=10)
            took = time.monotonic() - started
            assert other.status_code == 200
            assert took < 1.0, f"an unrelated request took {took:.2f} s behind the certificate fetch"

            cert_server.release.set()
            answers = [p.result(timeout=10) for p in posts if p not in early]
            assert sorted(r.status_code for r in answers) == [200, 200]
            assert post(url, good("h-late")).status_code == 200  # cached now
        assert cert_server.hits == 1


def test_a_fetch_that_hangs_past_the_timeout_is_503(store: Store, tmp_path: Path) -> None:
    with HangingCertServer() as cert_server:
        verifier = SnsVerifier([TOPIC], fetch=cert_server.fetch(), seen=store.sns, fetch_timeout=0.2)
        with pytest.raises(Exception, match="did not come within") as caught:
            verifier.verify(good("t-1"))
        assert getattr(caught.value, "status_code", None) == 503
        assert not store.sns.sns_seen("t-1", now=NOW)
        cert_server.release.set()
        verifier.close()


def test_a_replay_is_refused_after_a_restart(store_url: str) -> None:
    body = good("r-1")
    first = Store.open(store_url)
    verifier = SnsVerifier([TOPIC], fetch=Recorder(), seen=first.sns)
    verifier.verify(body)
    verifier.close()
    first.close()

    again = Store.open(store_url)  # a restart: new store, new verifier, nothing in memory
    verifier = SnsVerifier([TOPIC], fetch=Recorder(), seen=again.sns)
    with pytest.raises(InputError, match="seen before: a replay"):
        verifier.verify(body)
    verifier.verify(good("r-2"))
    verifier.close()
    again.close()


def test_two_processes_take_an_id_once_and_old_ids_are_pruned(store_url: str) -> None:
    one, two = Store.open(store_url), Store.open(store_url)
    later = NOW + dt.timedelta(hours=1)
    assert one.sns.remember_sns("p-1", expires_at=later, now=NOW)
    assert not two.sns.remember_sns("p-1", expires_at=later, now=NOW)
    assert two.sns.sns_seen("p-1", now=NOW)
    assert one.sns.remember_sns("p-2", expires_at=NOW - dt.timedelta(seconds=1), now=NOW)
    assert not one.sns.sns_seen("p-2", now=NOW)  # expired
    assert one.sns.remember_sns("p-2", expires_at=later, now=NOW)  # an expired id is taken over
    assert one.sns.remember_sns("p-3", expires_at=NOW - dt.timedelta(seconds=1), now=NOW)
    assert two.sns.prune_sns_seen(NOW) == 1
    assert two.sns.prune_sns_seen(later + dt.timedelta(seconds=1)) == 2
    two.sns.forget_sns("p-1")
    one.close()
    two.close()


def test_a_failed_subscription_confirmation_can_be_retried(store: Store) -> None:
    fetch = Recorder()
    verifier = SnsVerifier([TOPIC], fetch=fetch, seen=store.sns)
    body = signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "s-1",
            "TopicArn": TOPIC,
            "Token": "t",
            "Message": "You have chosen to subscribe",
            "Timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        }
    )
    verifier.verify(body)
    fetch.error = OSError("timed out")
    with pytest.raises(Exception, match="could not be fetched"):
        verifier.confirm(body)
    fetch.error = None
    verifier.verify(body)  # SNS's retry is not a replay
    verifier.confirm(body)
    verifier.close()
