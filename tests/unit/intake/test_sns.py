"""The SNS endpoint on a real uvicorn: genuine SES notifications are applied; forged, altered,
replayed, foreign-topic and foreign-host ones are refused with 403, malformed ones with 400."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.intake.api.app import create_app
from mailfate.intake.sns import SnsVerifier
from mailfate.model import AttemptRecord, AttemptResult, NewMessage
from mailfate.store import Store
from tests.support.asgi import serving

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cert_pem() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(KEY, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


PEM = cert_pem()


def signed(body: dict[str, Any], version: str = "2") -> dict[str, Any]:
    body = {"SignatureVersion": version, "SigningCertURL": CERT_URL, **body}
    text = "".join(f"{k}\n{body[k]}\n" for k in FIELDS[body["Type"]] if k in body)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    body["Signature"] = base64.b64encode(KEY.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
    return body


def notification(message: dict[str, Any], message_id: str, **over: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(message),
        "Timestamp": now,
        **over,
    }


def bounce(ses_id: str, address: str) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-11-28T10:05:00.000Z",
            "feedbackId": "f",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 no such user",
                }
            ],
        },
        "mail": {
            "timestamp": "2026-11-28T10:00:00.000Z",
            "source": "no-reply@app.example",
            "messageId": ses_id,
            "destination": [address],
        },
    }


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, Store, list[str]]]:
    store = Store.open(tmp_path / "s.db")
    now = dt.datetime.now(dt.UTC)
    mid = store.queue.submit(NewMessage("no-reply@app.example", ("kim@naver.test",), b"x"), now).message_id
    [claimed] = store.queue.claim(1, now=now, lease=60, owner="w")
    store.queue.record_attempts(
        [
            AttemptRecord(
                claimed.recipient_id,
                AttemptResult(
                    "delivered", 250, "2.0.0", "accepted by Amazon SES", "delivered", False, remote_id="ses-1"
                ),
                now,
            )
        ]
    )
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return PEM if url == CERT_URL else b"confirmed"

    app = create_app(
        store,
        Client(store, settings=load_settings(None, data_dir=tmp_path)),
        sns=SnsVerifier([TOPIC], fetch=fetch, seen=store.sns),
    )
    with serving(app) as url:
        yield f"{url}/v1/ses/sns", store, [mid, *fetched]
    store.close()


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, content=json.dumps(body), headers={"Content-Type": "text/plain"}, timeout=10)


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_genuine_bounce_is_applied_and_a_replay_refused(
    api: tuple[str, Store, list[str]], version: str
) -> None:
    url, store, (mid, *_) = api
    body = signed(notification(bounce("ses-1", "kim@naver.test"), "n-1"), version)
    first = post(url, body)
    assert first.status_code == 200 and first.json()["applied"] == 1
    view = store.messages.message(mid)
    assert view is not None and view.fate == "bounced"
    assert post(url, body).status_code == 403  # the same MessageId again


def test_forged_altered_foreign_and_stale_messages_are_refused(api: tuple[str, Store, list[str]]) -> None:
    url, store, (mid, *_) = api
    good = signed(notification(bounce("ses-1", "kim@naver.test"), "n-2"))
    altered = {**good, "Message": good["Message"].replace("Permanent", "Transient")}
    foreign_topic = signed(
        notification(bounce("ses-1", "kim@naver.test"), "n-3", TopicArn="arn:aws:sns:us-east-1:1:evil")
    )
    evil_cert = {
        **signed(notification(bounce("ses-1", "kim@naver.test"), "n-4")),
        "SigningCertURL": "https://evil.example/cert.pem",
    }
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stale = signed(notification(bounce("ses-1", "kim@naver.test"), "n-5", Timestamp=old))
    for body in (altered, foreign_topic, evil_cert, stale):
        assert post(url, body).status_code == 403, body
    garbage = {**good, "Signature": "not base64!!"}
    assert post(url, garbage).status_code == 400  # not even a signature
    assert httpx.post(url, content=b"{not json", timeout=10).status_code == 400
    view = store.messages.message(mid)
    assert view is not None and view.fate == "delivered"  # nothing was applied


def test_subscription_is_confirmed_through_the_pinned_host(api: tuple[str, Store, list[str]]) -> None:
    url, _, _ = api
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "s-1",
            "TopicArn": TOPIC,
            "Token": "t",
            "Message": "You have chosen to subscribe",
            "Timestamp": now,
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        }
    )
    assert post(url, body).json() == {"confirmed": True}
