"""A NUL anywhere a client can put one — path, query string, JSON body, a raw message's header —
is a 4xx on SQLite and on PostgreSQL (whose text refuses NUL: without the guard, a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.runtime.serve import build_app
from mailfate.store import Store
from tests.support.asgi import serving

NUL = "\x00"
BASE = {"from": "App <no-reply@app.example>", "to": ["kim@example.com"], "subject": "hello", "text": "hi"}


@pytest.fixture
def api(store_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, Client]]:
    store = Store.open(store_url)
    key = store.keys.create_key({"admin"}, at=datetime.now(UTC))
    client = Client(store, settings=load_settings(None, data_dir=tmp_path))
    app = build_app(store, client, max_body=1 << 20)  # the API and the dashboard, as serve builds it
    with (
        serving(app) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http,
    ):
        yield http, client
    store.close()


def test_nul_in_a_url_is_400_everywhere(api: tuple[httpx.Client, Client]) -> None:
    http, _ = api
    for param in ("recipient", "domain", "fate", "reason"):
        r = http.get("/v1/messages", params={param: f"a{NUL}b"})
        assert r.status_code == 400 and "NUL" in r.json()["detail"], (param, r.text)
    for path, params in [
        ("/v1/suppressions", {"scope": NUL}),
        ("/v1/webhooks/log", {"subscriber": NUL}),
        ("/v1/messages/m%00", {}),
        ("/messages", {"q": NUL}),  # the dashboard, mounted on the same app
    ]:
        assert http.get(path, params=params).status_code == 400, path
    assert http.delete("/v1/suppressions/a%00b@example.org").status_code == 400
    assert http.get("/v1/messages", params={"recipient": "kim@example.com"}).status_code == 200


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"subject": f"a{NUL}"}, "subject"),
        ({"text": f"a{NUL}b"}, "text"),
        ({"to": [f"a{NUL}@example.com"]}, "to"),
        ({"headers": {"X-A": f"v{NUL}"}}, "headers"),
        ({"headers": {f"X-{NUL}": "v"}}, "headers"),
        ({"tags": [f"t{NUL}"]}, "tags"),
        ({"idempotency_key": f"k{NUL}"}, "idempotency_key"),
        ({"text": None, "template": "verification-code", "variables": {"code": NUL}}, "variables"),
    ],
)
def test_nul_in_a_message_is_422_naming_the_field(
    api: tuple[httpx.Client, Client], fields: dict[str, Any], where: str
) -> None:
    http, _ = api
    r = http.post("/v1/messages", json={**BASE, **fields})
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", where] and "NUL" in error["msg"]


def test_nul_in_a_suppression_and_in_a_raw_message_header(api: tuple[httpx.Client, Client]) -> None:
    http, client = api
    r = http.post("/v1/suppressions", json={"address": "a@example.org", "reason": f"x{NUL}"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
    raw = b"From: a@app.example\r\nSubject: a\x00b\r\nMessage-ID: <1@app.example>\r\n\r\nhi\r\n"
    with pytest.raises(InputError, match="NUL"):
        client.send_raw(raw, mail_from="a@app.example", rcpt_to=["kim@example.com"])
    with pytest.raises(InputError, match="NUL"):
        client.send(from_="a@app.example", to="kim@example.com", subject="x", text=f"a{NUL}")
