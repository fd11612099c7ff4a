"""Hostile input on the HTTP API, over a real uvicorn on 127.0.0.1: out-of-range cursors and times, lone
surrogates, non-finite and huge deadlines, odd bodies — every one a 4xx with a JSON body, never a
500. Then a bounded schemathesis run over ``/v1/openapi.json`` (fixed seed, time limit)."""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.intake.api.app import create_app
from mailfate.intake.api.errors import safe_json as _safe_json
from mailfate.model.duration import MAX_DURATION, parse_duration
from mailfate.submit.compose import compose, require_utf8
from tests.support.asgi import serving

BASE = {"from": "App <no-reply@app.example>", "to": ["kim@example.com"], "subject": "hello", "text": "hi"}
SURROGATE = "\ud800"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    from mailfate.store import Store

    data: Path = tmp_path_factory.mktemp("hostile")
    store = Store.open(data / "s.db")
    key = store.keys.create_key({"admin"}, at=datetime.now(UTC))
    app = create_app(store, Client(store, settings=load_settings(None, data_dir=data)), max_body=1 << 20)
    with (
        serving(app) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client,
    ):
        yield client, key
    store.close()


def refused(response: httpx.Response, status: int = 422) -> Any:
    """The response is ``status`` with a strict-JSON body (no NaN, no lone surrogate)."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    text = response.content.decode("utf-8")  # strictly UTF-8
    body = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))
    assert "detail" in body
    return body


def post_raw(client: httpx.Client, raw: str) -> httpx.Response:
    return client.post(
        "/v1/messages", content=raw.encode("ascii"), headers={"Content-Type": "application/json"}
    )


def with_field(**fields: Any) -> str:
    """BASE with ``fields``, as JSON text with ``\\ud800`` written as the escape (ASCII)."""
    return json.dumps({**BASE, **fields})


# -- cursors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [str(2**63), str(2**64), str(10**40), "-1", "abc", "1e3", "0x10", " "])
@pytest.mark.parametrize(("path", "param"), [("/v1/events", "cursor"), ("/v1/webhooks/log", "before")])
def test_cursors_outside_the_store_integers_are_422(
    api: tuple[httpx.Client, str], path: str, param: str, value: str
) -> None:
    client, _ = api
    body = refused(client.get(path, params={param: value}))
    assert body["detail"][0]["loc"] == ["query", param]


@pytest.mark.parametrize(("path", "param"), [("/v1/events", "cursor"), ("/v1/webhooks/log", "before")])
def test_the_largest_cursor_is_answered(api: tuple[httpx.Client, str], path: str, param: str) -> None:
    client, _ = api
    assert client.get(path, params={param: str(2**63 - 1)}).status_code == 200


@pytest.mark.parametrize(
    ("param", "value"),
    [("since", "9999-12-31T23:59:59-23:59"), ("until", "0001-01-01T00:00:00+23:59"), ("since", "tomorrow")],
)
def test_search_times_outside_the_calendar_are_422(
    api: tuple[httpx.Client, str], param: str, value: str
) -> None:
    client, _ = api
    body = refused(client.get("/v1/messages", params={param: value}))
    assert body["detail"][0]["loc"] == ["query", param]


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00", "0001-01-01", "9999-12-31T23:59:59+00:00"])
def test_search_times_at_the_edges_are_answered(api: tuple[httpx.Client, str], value: str) -> None:
    client, _ = api
    assert client.get("/v1/messages", params={"since": value, "until": value}).status_code == 200


# -- lone surrogates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"from": f"App{SURROGATE} <a@app.example>"}, "from"),
        ({"to": ["kim@example.com", f"{SURROGATE}@example.com"]}, "to[1]"),
        ({"subject": SURROGATE}, "subject"),
        ({"text": f"hi {SURROGATE}"}, "text"),
        ({"html": f"<p>{SURROGATE}</p>"}, "html"),
        ({"headers": {"X-Campaign": SURROGATE}}, "headers.X-Campaign"),
        ({"headers": {SURROGATE: "x"}}, "headers"),
        ({"tags": [SURROGATE]}, "tags[0]"),
        ({"idempotency_key": SURROGATE}, "idempotency_key"),
        ({"lang": SURROGATE}, "lang"),
        ({"category": SURROGATE}, "category"),
        ({"reply_to": SURROGATE}, "reply_to"),
        ({"list_unsubscribe": SURROGATE}, "list_unsubscribe"),
        ({"deadline": SURROGATE}, "deadline"),
        (
            {
                "subject": None,
                "text": None,
                "template": "verification-code",
                "variables": {"code": SURROGATE},
            },
            "variables.code",
        ),
        ({"text": None, "template": "x", "variables": {"a": [{"b": SURROGATE}]}}, "variables.a[0].b"),
        ({"text": None, "template": "x", "variables": {SURROGATE: 1}}, "variables"),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_message_is_422_naming_the_field(
    api: tuple[httpx.Client, str], fields: dict[str, Any], where: str
) -> None:
    client, _ = api
    raw = with_field(**fields)
    assert "\\ud800" in raw and raw.isascii()
    body = refused(post_raw(client, raw))
    (error,) = body["detail"]
    assert error["loc"] == ["body", re.split(r"[.\[]", where, maxsplit=1)[0]]
    assert f"{where}: a " in error["msg"]
    assert "\\ud800" in json.dumps(error)  # echoed as text, not as the unencodable character


def test_a_lone_surrogate_in_a_suppression_is_422(api: tuple[httpx.Client, str]) -> None:
    client, _ = api
    raw = json.dumps({"address": f"kim{SURROGATE}@example.com", "reason": SURROGATE})
    body = refused(client.post("/v1/suppressions", content=raw, headers={"Content-Type": "application/json"}))
    assert {e["loc"][1] for e in body["detail"]} == {"address", "reason"}


def test_the_python_composer_refuses_surrogates_with_input_error() -> None:
    with pytest.raises(InputError, match=r"variables\.code: a lone surrogate"):
        compose(from_="a@app.example", to="b@example.com", template="x", variables={"code": SURROGATE})
    with pytest.raises(InputError, match="subject"):
        compose(from_="a@app.example", to="b@example.com", subject=SURROGATE, text="t")
    require_utf8({"k": ["한국어", "😀", 1, None]}, "fine")  # paired (real) characters pass


# -- deadlines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e308",
        "1e400",
        "-1",
        "0",
        "2592001",
        '"99999999999999d"',
        '"31d"',
        '"nan"',
    ],
)
def test_deadlines_must_be_finite_positive_and_at_most_30_days(
    api: tuple[httpx.Client, str], raw: str
) -> None:
    client, _ = api
    body = refused(post_raw(client, json.dumps(BASE)[:-1] + f', "deadline": {raw}}}'))
    assert body["detail"][0]["loc"] == ["body", "deadline"]


@pytest.mark.parametrize("deadline", ["10m", "30d", 2592000, 0.5])
def test_reasonable_deadlines_are_taken(api: tuple[httpx.Client, str], deadline: str | float) -> None:
    client, _ = api
    answer = client.post("/v1/messages", json={**BASE, "deadline": deadline})
    assert answer.status_code == 202, answer.text


def test_parse_duration_refuses_non_finite_and_overflowing_values() -> None:
    for bad in ("99999999999999d", "1" * 400, math.nan, math.inf, -math.inf, 1e308, 10**400, 0, -5):
        with pytest.raises(InputError):
            parse_duration(bad)
    assert parse_duration("36600d") == MAX_DURATION
    assert parse_duration(90) == 90.0
    with pytest.raises(InputError, match="at most 1 days"):
        parse_duration("25h", maximum=86400)


# -- odd bodies and the error renderer ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{not json",
        b'{"from": "\xed\xa0\x80@x.example"}',  # a surrogate encoded in (invalid) UTF-8 bytes
        b"[" * 5000 + b"]" * 5000,
        b'{"variables": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"}",
        b"1" * 5000,
        b'{"from": 1e999999}',
        b"",
        b"null",
    ],
)
def test_malformed_bodies_are_4xx_json(api: tuple[httpx.Client, str], raw: bytes) -> None:
    client, _ = api
    response = client.post("/v1/messages", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:300]
    json.loads(response.content.decode("utf-8"))


def test_a_body_over_the_limit_is_413_json(api: tuple[httpx.Client, str]) -> None:
    client, _ = api
    refused(post_raw(client, with_field(text="x" * (1 << 20))), 413)


def test_the_error_renderer_never_fails() -> None:
    odd = {
        "s": SURROGATE * 3,
        b"k": [b"\xff\xfe", math.nan, -math.inf, ValueError(SURROGATE), ("t", 1, None, True)],
        "long": "x" * 10_000,
    }
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    cleaned = _safe_json({"odd": odd, "deep": deep})
    text = json.dumps(cleaned, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    assert cleaned["odd"]["s"] == "\\ud800" * 3
    assert cleaned["odd"]["b'k'"][1:3] == ["nan", "-inf"]
    assert len(cleaned["odd"]["long"]) <= 1001
    assert "…" in text and text.count("[") <= 25


# -- generated requests ------------------------------------------------------------------------

TIME_LIMIT = 60.0
"""Seconds the generated run may take; it stops sending (and passes) after that."""
EXAMPLES = 30
"""Generated cases per operation and mode (valid, invalid)."""


def test_schemathesis_finds_no_5xx(api: tuple[httpx.Client, str]) -> None:
    """Requests generated from ``/v1/openapi.json`` — for each operation, valid and invalid ones,
    fixed seed, a few hundred in all — none answered with a 5xx."""
    schemathesis = pytest.importorskip("schemathesis")
    import requests
    from schemathesis.generation.modes import GenerationMode

    client, key = api
    base = str(client.base_url).rstrip("/")
    schema = schemathesis.openapi.from_url(f"{base}/v1/openapi.json")
    auth = {"Authorization": f"Bearer {key}"}
    stop = time.monotonic() + TIME_LIMIT
    failures: list[str] = []
    calls = 0

    def check(case: Any, session: requests.Session) -> None:
        nonlocal calls
        if time.monotonic() > stop:
            return
        try:
            response = case.call(base_url=base, session=session, headers=auth, timeout=30)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            return  # the client library refuses to send it: nothing reached the server
        calls += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {case!r}")

    operations = [result.ok() for result in schema.get_all_operations()]
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @seed(20261206)
                @settings(
                    max_examples=EXAMPLES,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case: Any) -> None:
                    check(case, session)

                with contextlib.suppress(Unsatisfiable):  # nothing invalid to generate for it
                    run()
    assert calls >= 100
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e308, -5, 0])
def test_python_client_refuses_a_deadline_that_is_no_finite_future(value: float) -> None:
    from datetime import UTC, datetime

    from mailfate.errors import InputError
    from mailfate.submit.service import deadline_at as _deadline

    with pytest.raises(InputError, match="deadline"):
        _deadline(value, datetime.now(UTC))
