"""``/v1/openapi.json`` documents every status each route answers, with its model; what the routes
answer fits those models exactly; the API's message JSON is the one ``mailfate trace --json``
prints; ``intake`` imports nothing of the CLI. In process (ASGI), no sockets."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import mailfate.intake
from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.intake.api import responses
from mailfate.intake.api.app import create_app
from mailfate.intake.api.errors import ErrorOut, ValidationErrorOut
from mailfate.model import AttemptRecord, NewMessage, NewSuppression
from mailfate.model.records import AttemptResult
from mailfate.store import Store

EXPECTED: dict[tuple[str, str], set[int]] = {
    ("post", "/v1/messages"): {202, 401, 403, 409, 413, 422, 429},
    ("post", "/v1/messages/raw"): {202, 401, 403, 409, 413, 422, 429},
    ("get", "/v1/messages/{message_id}"): {200, 400, 401, 403, 404, 422},
    ("get", "/v1/messages"): {200, 400, 401, 403, 422},
    ("get", "/v1/events"): {200, 400, 401, 403, 422},
    ("get", "/v1/suppressions"): {200, 400, 401, 403, 422},
    ("post", "/v1/suppressions"): {201, 401, 403, 413, 422},
    ("delete", "/v1/suppressions/{address}"): {200, 400, 401, 403, 404},
    ("get", "/v1/stats"): {200, 401, 403},
    ("get", "/v1/alerts"): {200, 401, 403},
    ("get", "/v1/webhooks/log"): {200, 400, 401, 403, 422},
    ("get", "/v1/health"): {200},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "s.db")
    yield store
    store.close()


def call(
    store: Store, tmp_path: Path, *requests: tuple[str, str, dict[str, Any] | None]
) -> list[httpx.Response]:
    """Each request, in order, with an admin key, to a fresh app over ASGI."""
    key = store.keys.create_key({"admin"}, at=datetime.now(UTC))
    app = create_app(store, Client(store, settings=load_settings(None, data_dir=tmp_path)))

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api.test",
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            return [await client.request(m, path, json=body) for m, path, body in requests]

    return asyncio.run(run())


def resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def test_each_route_documents_every_status_it_answers(store: Store, tmp_path: Path) -> None:
    (answer,) = call(store, tmp_path, ("GET", "/v1/openapi.json", None))
    spec = answer.json()
    documented = {
        (method, path): {int(status) for status in op["responses"]}
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    assert set(documented) == set(EXPECTED)
    for route, statuses in EXPECTED.items():
        assert statuses <= documented[route], (route, sorted(statuses - documented[route]))
    for (method, path), _ in EXPECTED.items():
        for status, response in spec["paths"][path][method]["responses"].items():
            ref = response["content"]["application/json"]["schema"]["$ref"]  # a model, not `{}`
            schema = resolve(spec, ref)
            if int(status) >= 400:
                assert list(schema["properties"]) == ["detail"], (method, path, status)
    post = spec["paths"]["/v1/messages"]["post"]["responses"]
    assert "Retry-After" in post["429"]["headers"] and "WWW-Authenticate" in post["401"]["headers"]
    assert resolve(spec, post["409"]["content"]["application/json"]["schema"]["$ref"])["title"] == (
        "SuppressedErrorOut"
    )
    one = spec["paths"]["/v1/messages/{message_id}"]["get"]["responses"]["200"]
    assert one["content"]["application/json"]["schema"]["$ref"].endswith("/MessageOut")


def fits(model: type[BaseModel], body: Any) -> None:
    """``body`` validates as ``model`` and says nothing more than it (nothing dropped)."""
    dumped = model.model_validate(body).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == body


def test_what_the_routes_answer_fits_their_models(store: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    mid = store.queue.submit(NewMessage("no-reply@app.example", ("kim@naver.test",), b"x"), now).message_id
    [claimed] = store.queue.claim(1, now=now, lease=60, owner="w")
    result = AttemptResult("deferred", 421, "4.7.0", "try later", "greylisted", False, connect_ms=2.5)
    store.queue.record_attempts([AttemptRecord(claimed.recipient_id, result, now)])
    store.suppressions.suppress(NewSuppression("*", "gone@example.com", "hard-bounce", "550 5.1.1"), at=now)
    message = {"from": "a@app.example", "subject": "s", "text": "x"}
    answers = call(
        store,
        tmp_path,
        ("POST", "/v1/messages", {**message, "to": ["b@example.com", "gone@example.com"]}),
        ("POST", "/v1/messages", {**message, "to": ["gone@example.com"]}),
        ("GET", f"/v1/messages/{mid}", None),
        ("GET", "/v1/messages", None),
        ("GET", "/v1/events", None),
        ("GET", "/v1/suppressions", None),
        ("POST", "/v1/suppressions", {"address": "x@example.com"}),
        ("DELETE", "/v1/suppressions/x@example.com", None),
        ("GET", "/v1/stats", None),
        ("GET", "/v1/alerts", None),
        ("GET", "/v1/webhooks/log", None),
        ("GET", "/v1/health", None),
        ("GET", "/v1/messages/mnone", None),
        ("GET", "/v1/events?cursor=-1&limit=0", None),
        ("POST", "/v1/suppressions", {"address": "not an address"}),
    )
    models: list[tuple[int, type[BaseModel]]] = [
        (202, responses.MessageAccepted),
        (409, responses.SuppressedErrorOut),
        (200, responses.MessageOut),
        (200, responses.SearchOut),
        (200, responses.EventsOut),
        (200, responses.SuppressionsOut),
        (201, responses.SuppressionAdded),
        (200, responses.SuppressionRemoved),
        (200, responses.StatsOut),
        (200, responses.AlertsOut),
        (200, responses.WebhookLogOut),
        (200, responses.HealthOut),
        (404, ErrorOut),
        (422, ValidationErrorOut),
        (422, ValidationErrorOut),
    ]
    for answer, (status, model) in zip(answers, models, strict=True):
        assert answer.status_code == status, (answer.request.url, answer.text)
        fits(model, answer.json())
    accepted = answers[0].json()
    assert set(accepted) == {"message_id", "suppressed"}  # no "existing": it is new
    view = answers[2].json()
    assert view["from"] == "no-reply@app.example" and view["events"][-1]["connect_ms"] == 2.5
    assert view == responses.message_json(store.messages.message(mid))  # type: ignore[arg-type]


def test_intake_imports_nothing_of_the_cli() -> None:
    root = Path(mailfate.intake.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name != "mailfate.cli" and not name.startswith("mailfate.cli."), (
                    f"{path.relative_to(root.parent)}:{node.lineno} imports {name}"
                )
