"""The Mailpit-compatible and mailfate routes in process (httpx over ASGI): shapes, status codes, fuzz."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfate.simulator.config import load_config
from mailfate.simulator.control import create_control_app
from mailfate.simulator.inbox import Attempt, TranscriptLine
from mailfate.simulator.runtime import Simulator
from tests.unit.simulator.test_inbox import MULTI

SUMMARY_FIELDS = {
    "ID",
    "MessageID",
    "Read",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "Subject",
    "Created",
    "Username",
    "Tags",
    "Size",
    "Attachments",
    "Snippet",
}
DETAIL_FIELDS = {
    "ID",
    "MessageID",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "ReturnPath",
    "Subject",
    "ListUnsubscribe",
    "Date",
    "Tags",
    "Username",
    "Text",
    "HTML",
    "Size",
    "Inline",
    "Attachments",
}


class TestClient:
    """A synchronous client over the ASGI app (one event loop per request)."""

    __test__ = False

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
            return await c.request(method, url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return asyncio.run(self._send(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(load_config())


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    assert sim.inbox is not None
    sim.inbox.delete(None)
    sim.rules.clear()
    sim.chaos.set(
        {n: {"ErrorCode": 451, "Probability": 0} for n in ("Sender", "Recipient", "Authentication")}
    )
    for i, content in enumerate(
        (MULTI, b"From: a@app.test\r\nTo: bob@x.test\r\nSubject: plain\r\n\r\ncode 2468\r\n")
    ):
        sim.inbox.add(
            "x.test",
            f"QUEUE{i}",
            content,
            mail_from="bounce@app.test",
            rcpts=("a@x.test",) if i == 0 else ("bob@x.test",),
            created=datetime(2026, 12, 1, tzinfo=UTC),
            path=None,
            transcript=(TranscriptLine(1.0, "S", "250 2.0.0 Ok", "", "accepted: no personality objected"),),
        )
    yield TestClient(create_control_app(sim))


def test_list_and_search_use_mailpits_fields(client: TestClient) -> None:
    body = client.get("/api/v1/messages").json()
    assert set(body) == {
        "total",
        "unread",
        "count",
        "messages_count",
        "messages_unread",
        "start",
        "tags",
        "messages",
    }
    assert (body["total"], body["unread"], body["count"]) == (2, 2, 2)
    assert set(body["messages"][0]) == SUMMARY_FIELDS
    assert body["messages"][0]["Subject"] == "plain"  # newest first
    assert body["messages"][1]["Attachments"] == 1
    found = client.get("/api/v1/search", params={"query": "to:bob@x.test"}).json()
    assert found["messages_count"] == 1 and found["total"] == 2
    assert (
        client.get("/api/v1/messages", params={"start": 1, "limit": 1}).json()["messages"][0]["Subject"]
        == "정보"
    )


def test_message_detail_raw_headers_part(client: TestClient) -> None:
    latest = client.get("/api/v1/message/latest").json()
    assert set(latest) == DETAIL_FIELDS
    assert latest["Subject"] == "plain" and "code 2468" in latest["Text"]
    old = client.get("/api/v1/messages").json()["messages"][1]["ID"]
    detail = client.get(f"/api/v1/message/{old}").json()
    assert detail["Attachments"][0]["FileName"] == "a.pdf" and detail["Inline"][0]["PartID"] == "1.2"
    assert set(detail["Attachments"][0]) == {
        "PartID",
        "FileName",
        "ContentType",
        "ContentID",
        "Size",
        "Checksums",
    }
    assert client.get("/api/v1/messages").json()["unread"] == 0  # opening marks read, as in Mailpit
    raw = client.get(f"/api/v1/message/{old}/raw")
    assert raw.status_code == 200 and raw.content == MULTI
    headers = client.get(f"/api/v1/message/{old}/headers").json()
    assert headers["Cc"] == ["c@x.test"]
    part = client.get(f"/api/v1/message/{old}/part/2")
    assert (
        part.status_code == 200
        and part.content == b"%PDF-"
        and part.headers["content-type"] == "application/pdf"
    )
    assert client.get(f"/api/v1/message/{old}/part/9").status_code == 404
    view = client.get(f"/view/{old}.html")
    assert "<b>body</b>" in view.text and "sandbox" in view.headers["content-security-policy"]
    assert client.get(f"/view/{old}.txt").text.strip() == "plain 4321 body"
    assert client.get("/view/nope.txt").status_code == 404


def test_read_status_and_delete(client: TestClient) -> None:
    ids = [m["ID"] for m in client.get("/api/v1/messages").json()["messages"]]
    assert client.put("/api/v1/messages", json={"IDs": [ids[0]], "Read": True}).text == "ok"
    assert client.get("/api/v1/search", params={"query": "is:read"}).json()["messages_count"] == 1
    assert client.put("/api/v1/messages", json={"Read": True}).status_code == 200
    assert client.get("/api/v1/messages").json()["unread"] == 0
    assert client.put("/api/v1/messages", json={"Read": False, "Search": "to:bob"}).status_code == 200
    assert client.get("/api/v1/messages").json()["unread"] == 1
    assert client.request("DELETE", "/api/v1/search", params={"query": "to:bob"}).text == "ok"
    assert client.get("/api/v1/messages").json()["total"] == 1
    assert client.request("DELETE", "/api/v1/messages", json={"IDs": [ids[1]]}).status_code == 200
    assert client.get("/api/v1/messages").json()["total"] == 0


def test_delete_without_a_body_deletes_everything(client: TestClient) -> None:
    assert client.delete("/api/v1/messages").status_code == 200
    assert client.get("/api/v1/info").json()["Messages"] == 0


def test_info_chaos_tags_webui(client: TestClient) -> None:
    info = client.get("/api/v1/info").json()
    assert info["Messages"] == 2 and info["Unread"] == 2 and "SMTPAccepted" in info["RuntimeStats"]
    assert client.get("/api/v1/tags").json() == []
    assert client.get("/api/v1/webui").json()["ChaosEnabled"] is True
    put = client.put("/api/v1/chaos", json={"Recipient": {"ErrorCode": 452, "Probability": 10}})
    assert put.status_code == 200 and put.json()["Recipient"] == {"ErrorCode": 452, "Probability": 10}
    assert client.get("/api/v1/chaos").json()["Sender"]["Probability"] == 0


def test_mailfate_routes(client: TestClient, sim: Simulator) -> None:
    mid = client.get("/api/v1/messages").json()["messages"][0]["ID"]
    t = client.get(f"/api/v1/mailfate/message/{mid}/transcript").json()
    assert t["Rcpts"] == ["bob@x.test"] and t["Transcript"][0]["Why"] == "accepted: no personality objected"
    assert sim.inbox is not None
    sim.inbox.record(
        [
            Attempt(
                datetime.now(UTC),
                "S",
                "127.0.0.1",
                "h",
                "a@b",
                "k@n.test",
                "rcpt",
                451,
                "4.7.1",
                "451 4.7.1 x",
                "deferred",
                "rule 1 (*)",
                "deferred",
            )
        ]
    )
    got = client.get("/api/v1/mailfate/attempts", params={"to": "K@n.test"}).json()
    assert got["Count"] == 1 and got["Attempts"][0]["Code"] == 451 and got["Attempts"][0]["Status"] == "4.7.1"
    rules = [{"match": "*@n.test", "reply": "451 4.7.1 soft", "times": 2, "then": "accept"}]
    assert client.put("/api/v1/mailfate/rules", json=rules).json()["Rules"][0]["match"] == "*@n.test"
    assert len(client.get("/api/v1/mailfate/rules").json()["Rules"]) == 1
    assert client.delete("/api/v1/mailfate/rules").json() == {"Rules": []}
    w = client.get(
        "/api/v1/mailfate/wait", params={"to": "bob@x.test", "code": "true", "timeout": "1"}
    ).json()
    assert w["Code"] == "2468" and w["Message"]["ID"] == mid
    again = client.get("/api/v1/mailfate/wait", params={"to": "bob@x.test", "timeout": "0.2"})
    assert again.status_code == 408 and "bob@x.test" in again.text


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/v1/message/nope", {}, 404),
        ("GET", "/api/v1/message/nope/raw", {}, 404),
        ("GET", "/api/v1/message/nope/headers", {}, 404),
        ("GET", "/api/v1/message/nope/part/1", {}, 404),
        ("GET", "/api/v1/mailfate/message/nope/transcript", {}, 404),
        ("GET", "/api/v1/search", {}, 400),
        ("GET", "/api/v1/search", {"params": {"query": "q" * 60_000}}, 400),
        ("GET", "/api/v1/search", {"params": {"query": "is:nothing"}}, 400),
        ("GET", "/api/v1/messages", {"params": {"limit": "ten"}}, 400),
        ("GET", "/api/v1/messages", {"params": {"start": "-1"}}, 400),
        ("PUT", "/api/v1/chaos", {"content": b"{not json"}, 400),
        ("PUT", "/api/v1/chaos", {"json": {"Sender": {"ErrorCode": 200}}}, 400),
        ("PUT", "/api/v1/chaos", {"json": ["Sender"]}, 400),
        ("PUT", "/api/v1/messages", {"content": b"\xff\xfe"}, 400),
        ("PUT", "/api/v1/messages", {"json": {"IDs": "abc"}}, 400),
        ("PUT", "/api/v1/messages", {"json": {"Read": "yes"}}, 400),
        ("DELETE", "/api/v1/messages", {"json": [1, 2]}, 400),
        ("PUT", "/api/v1/mailfate/rules", {"json": {"match": "x"}}, 400),
        ("PUT", "/api/v1/mailfate/rules", {"content": b""}, 400),
        ("GET", "/api/v1/mailfate/wait", {"params": {"to": "nobody"}}, 400),
        ("GET", "/api/v1/mailfate/wait", {"params": {"to": "a@x.test", "pattern": "("}}, 400),
        ("GET", "/api/v1/mailfate/wait", {"params": {"to": "a@x.test", "timeout": "1e9"}}, 400),
        ("GET", "/api/v1/mailfate/wait", {"params": {"to": "a@x.test", "since": "yesterday"}}, 400),
        ("GET", "/api/v1/mailfate/attempts", {"params": {"limit": "x"}}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    r = client.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert r.text and "Traceback" not in r.text


PATHS = st.sampled_from(
    [
        "/api/v1/messages",
        "/api/v1/search",
        "/api/v1/message/{x}",
        "/api/v1/message/{x}/raw",
        "/api/v1/message/{x}/headers",
        "/api/v1/message/latest/part/{x}",
        "/api/v1/chaos",
        "/api/v1/mailfate/rules",
        "/api/v1/mailfate/attempts",
        "/api/v1/mailfate/message/{x}/transcript",
    ]
)


@given(
    method=st.sampled_from(["GET", "PUT", "DELETE"]),
    path=PATHS,
    x=st.text(min_size=1, max_size=30),
    params=st.dictionaries(
        st.sampled_from(["query", "start", "limit", "to", "timeout"]), st.text(max_size=40), max_size=3
    ),
    body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_routes_fuzz_never_500(  # noqa: PLR0917 - hypothesis passes one argument per strategy
    client: TestClient, method: str, path: str, x: str, params: dict[str, str], body: bytes
) -> None:
    if path.endswith("rules") and method == "PUT":
        params = {}
    r = client.request(
        method, path.replace("{x}", urllib.parse.quote(x, safe="")), params=params, content=body
    )
    assert r.status_code < 500, (method, path, x, params, body, r.text)
