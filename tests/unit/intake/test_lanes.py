"""Lanes (:mod:`mailfate.intake.api.lanes`) answer exactly what the routes answer.

Two real uvicorn servers on 127.0.0.1 over one store, one with lanes and one without; each request
goes to both and the answers are compared: status, the JSON body (message ids aside) and the
headers a client acts on. The table covers every refusal of ``POST /v1/messages`` a lane hands
back to the route and the answers a lane gives itself (202, an idempotent repeat, 409, 422 from
the composer, 429); hypothesis then sends bodies around the schema. A last test takes the route
away to show the lane answers a valid request by itself and hands every other one on."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.intake.api.app import create_app
from mailfate.intake.api.lanes import Lanes
from mailfate.intake.api.messages_v1 import post_message_lane
from mailfate.model import NewSuppression
from mailfate.store import Store
from tests.support.asgi import serving

VALID = {
    "from": "App <no-reply@app.example>",
    "to": ["kim@example.com"],
    "subject": "hi",
    "text": "code 1234",
}
MESSAGE_ID = re.compile(r"m[0-9a-z]{26}")


class Pair:
    """The same store behind an app with lanes and one without."""

    def __init__(self, data: Path, **options: Any) -> None:
        self.store = Store.open(data / "s.db")
        now = datetime.now(UTC)
        self.keys = {
            "send": self.store.keys.create_key({"send"}, at=now),
            "read": self.store.keys.create_key({"read"}, at=now),
            "admin": self.store.keys.create_key({"admin"}, at=now),
        }
        self.store.suppressions.suppress(NewSuppression("*", "gone@example.com", "hard_bounce"), at=now)
        client = Client(self.store, settings=load_settings(None, data_dir=data))
        self.apps = {lanes: create_app(self.store, client, lanes=lanes, **options) for lanes in (True, False)}

    @contextlib.contextmanager
    def clients(self) -> Iterator[dict[bool, httpx.Client]]:
        with (
            serving(self.apps[True]) as on,
            serving(self.apps[False]) as off,
            httpx.Client(base_url=on, timeout=30) as a,
            httpx.Client(base_url=off, timeout=30) as b,
        ):
            yield {True: a, False: b}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pair, dict[bool, httpx.Client]]]:
    made = Pair(tmp_path_factory.mktemp("lanes"), max_body=4096)
    with made.clients() as clients:
        yield made, clients
    made.store.close()


def seen(response: httpx.Response) -> tuple[int, Any, dict[str, str | None]]:
    """What a client acts on: status, body (message ids as ``m…``), and the headers that matter."""
    text = MESSAGE_ID.sub("m…", response.text)
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    headers = {h: response.headers.get(h) for h in ("content-type", "www-authenticate", "retry-after")}
    return response.status_code, body, headers


def both(clients: dict[bool, httpx.Client], **request: Any) -> tuple[Any, Any]:
    return seen(clients[True].post("/v1/messages", **request)), seen(
        clients[False].post("/v1/messages", **request)
    )


def bearer(pair: Pair, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair.keys[scope]}"}


CASES: dict[str, dict[str, Any]] = {
    "valid": {"json": VALID},
    "valid, admin key": {"json": VALID, "key": "admin"},
    "charset in the content type": {
        "content": json.dumps(VALID).encode(),
        "headers": {"Content-Type": "application/json; charset=utf-8"},
    },
    "no content type": {"content": json.dumps(VALID).encode(), "headers": {"Content-Type": ""}},
    "text/plain": {"content": json.dumps(VALID).encode(), "headers": {"Content-Type": "text/plain"}},
    "+json content type": {
        "content": json.dumps(VALID).encode(),
        "headers": {"Content-Type": "application/vnd.api+json"},
    },
    "no key": {"json": VALID, "key": None},
    "unknown key": {"json": VALID, "headers": {"Authorization": "Bearer mf_nosuchkey"}},
    "basic scheme": {"json": VALID, "headers": {"Authorization": "Basic bWY6eA=="}},
    "bearer without a key": {"json": VALID, "headers": {"Authorization": "Bearer"}},
    "read-only key": {"json": VALID, "key": "read"},
    "not JSON": {"content": b"{nope", "headers": {"Content-Type": "application/json"}},
    "not UTF-8": {"content": b'{"from": "\xff"}', "headers": {"Content-Type": "application/json"}},
    "empty body": {"content": b"", "headers": {"Content-Type": "application/json"}},
    "a JSON list": {"json": [VALID]},
    "deep nesting": {"content": b"[" * 5000 + b"]" * 5000, "headers": {"Content-Type": "application/json"}},
    "unknown field": {"json": {**VALID, "priority": "high"}},
    "no recipient": {"json": {**VALID, "to": []}},
    "a lone surrogate": {"content": json.dumps({**VALID, "subject": "\ud800"}).encode()},
    "an address the composer refuses": {"json": {**VALID, "to": ["not an address"]}},
    "an unknown template": {"json": {"from": VALID["from"], "to": VALID["to"], "template": "no-such"}},
    "every recipient suppressed": {"json": {**VALID, "to": ["gone@example.com"]}},
    "one recipient suppressed": {"json": {**VALID, "to": ["gone@example.com", "kim@example.com"]}},
    "a deadline": {"json": {**VALID, "deadline": "10m"}},
    "a bad deadline": {"json": {**VALID, "deadline": "soon"}},
    "over the body limit": {"json": {**VALID, "text": "x" * 5000}},
    "a query string": {"json": VALID, "params": {"x": "1"}},
}


@pytest.mark.parametrize("case", list(CASES))
def test_lanes_answer_as_the_route_does(pair: tuple[Pair, dict[bool, httpx.Client]], case: str) -> None:
    made, clients = pair
    request = dict(CASES[case])
    scope = request.pop("key", "send")
    request["headers"] = {**(bearer(made, scope) if scope else {}), **request.get("headers", {})}
    with_lanes, without = both(clients, **request)
    assert with_lanes == without


def test_an_idempotent_repeat_answers_the_first_message(pair: tuple[Pair, dict[bool, httpx.Client]]) -> None:
    made, clients = pair
    answers = {}
    for lanes in (True, False):
        body = {**VALID, "idempotency_key": f"signup-{lanes}"}
        first = clients[lanes].post("/v1/messages", json=body, headers=bearer(made, "send"))
        again = clients[lanes].post("/v1/messages", json=body, headers=bearer(made, "send"))
        assert first.status_code == again.status_code == 202
        assert again.json()["message_id"] == first.json()["message_id"]
        answers[lanes] = (seen(first), seen(again))
    assert answers[True] == answers[False]
    assert answers[True][1][1]["existing"] is True


def test_a_chunked_body_over_the_limit_is_413_either_way(pair: tuple[Pair, dict[bool, httpx.Client]]) -> None:
    made, clients = pair

    def chunks() -> Iterator[bytes]:
        yield json.dumps({**VALID, "text": "x" * 5000}).encode()

    answers = [
        seen(
            clients[lanes].post(
                "/v1/messages",
                content=chunks(),
                headers={**bearer(made, "send"), "Content-Type": "application/json"},
            )
        )
        for lanes in (True, False)
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 413


def test_over_the_key_rate_is_429_with_retry_after_either_way(tmp_path: Path) -> None:
    made = Pair(tmp_path, rate_per_key=0.001, burst_per_key=1)
    try:
        with made.clients() as clients:
            for lanes in (True, False):
                first = clients[lanes].post("/v1/messages", json=VALID, headers=bearer(made, "send"))
                assert first.status_code == 202
            # one key, two apps: each has its own limiter, both now empty
            answers = [
                (status, re.sub(r"retry in [\d.]+ s", "retry in … s", body["detail"]), headers)
                for status, body, headers in both(clients, json=VALID, headers=bearer(made, "send"))
            ]
            assert answers[0] == answers[1]
            assert answers[0][0] == 429
            assert answers[0][2]["retry-after"] is not None
    finally:
        made.store.close()


_TEXT = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.lists(st.text(max_size=5), max_size=2))
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "from": st.one_of(st.sampled_from(["a@app.example", "App <no-reply@app.example>", "x"]), _TEXT),
        "to": st.one_of(
            st.lists(st.sampled_from(["kim@example.com", "gone@example.com", "@", "lee@例.kr"]), max_size=3),
            _TEXT,
        ),
        "subject": _TEXT,
        "text": _TEXT,
        "html": _TEXT,
        "template": st.one_of(st.just("verification-code"), _TEXT),
        "variables": st.one_of(
            st.just({"code": "1234"}), st.dictionaries(st.text(max_size=5), _TEXT, max_size=2)
        ),
        "lang": st.one_of(st.sampled_from(["ko", "en"]), _TEXT),
        "headers": st.one_of(
            st.dictionaries(st.sampled_from(["X-A", "Bad Name", "Bcc"]), st.text(max_size=8)), _TEXT
        ),
        "tags": st.one_of(st.lists(st.sampled_from(["signup", "a b", ""]), max_size=2), _TEXT),
        "deadline": st.one_of(st.sampled_from(["10m", "0", "-1", "1e400", "40d"]), st.floats(), _TEXT),
        "category": _TEXT,
        "unknown": _TEXT,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=FIELDS)
def test_any_body_is_answered_as_the_route_answers_it(
    pair: tuple[Pair, dict[bool, httpx.Client]], body: dict[str, Any]
) -> None:
    made, clients = pair
    content = json.dumps(body, allow_nan=True).encode()
    headers = {**bearer(made, "send"), "Content-Type": "application/json"}
    with_lanes, without = both(clients, content=content, headers=headers)
    assert with_lanes == without


def test_the_lane_answers_a_valid_request_alone_and_hands_on_every_other(tmp_path: Path) -> None:
    """Behind the lane, instead of the routes, an app that echoes the body it receives: a valid
    request is answered by the lane alone (202, stored); any other reaches the echo whole."""
    made = Pair(tmp_path)
    reached: list[bytes] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        reached.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": body})

    lanes = Lanes(echo, {("POST", "/v1/messages"): post_message_lane})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = made.apps[False]  # where the lane finds the API's state, as in the app
        await lanes(scope, receive, send)

    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            ok = client.post("/v1/messages", json=VALID, headers=bearer(made, "send"))
            assert ok.status_code == 202
            assert made.store.messages.message(ok.json()["message_id"]) is not None
            assert reached == []
            for request in (
                {"json": {**VALID, "priority": 1}, "headers": bearer(made, "send")},
                {"json": VALID},
                {"json": VALID, "headers": bearer(made, "read")},
                {
                    "content": b"{nope",
                    "headers": {**bearer(made, "send"), "Content-Type": "application/json"},
                },
            ):
                handed = client.post("/v1/messages", **request)
                assert handed.status_code == 299
                assert handed.content == handed.request.content  # the body the lane read, replayed whole
            assert len(reached) == 4
            assert client.get("/v1/messages").status_code == 299  # not a lane's (method, path)
    finally:
        made.store.close()
