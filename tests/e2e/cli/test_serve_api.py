"""``mailfate serve`` as a real process: the HTTP API on a free port, keys, scopes, bad input."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.serve import mailfate, running, serve_args


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("serve")
    keys = {
        scope: json.loads(
            mailfate("keys", "create", "--scope", scope, "--json", "--data-dir", str(data)).stdout
        )["key"]
        for scope in ("send", "read", "admin")
    }
    args = serve_args(data, submission="0")
    with running(*args) as ready:
        yield {"url": ready["http"], "keys": keys, "data": data, "submission": ready["submission"]}


def api(served: dict[str, Any], scope: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {served['keys'][scope]}"} if scope else {}
    return httpx.Client(base_url=served["url"], headers=headers, timeout=20)


def test_submit_then_follow_the_message_to_its_fate(served: dict[str, Any]) -> None:
    with api(served, "send") as send, api(served, "read") as read:
        body = {
            "from": "App <no-reply@app.example>",
            "to": ["kim@accept.mailfate.test"],
            "template": "verification-code",
            "variables": {"code": "428913"},
            "lang": "ko",
            "tags": ["signup"],
            "deadline": "10m",
        }
        answer = send.post("/v1/messages", json=body)
        assert answer.status_code == 202, answer.text
        mid = answer.json()["message_id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            view = read.get(f"/v1/messages/{mid}").json()
            if view["fate"] == "delivered":
                break
            time.sleep(0.05)
        assert view["fate"] == "delivered"
        assert [e["type"] for e in view["events"]][:2] == ["queued", "attempt"]
        found = read.get(
            "/v1/messages", params={"recipient": "kim@accept.mailfate.test", "tag": "signup"}
        ).json()
        assert [m["message_id"] for m in found["messages"]] == [mid]
        events = read.get("/v1/events", params={"cursor": 0}).json()
        assert any(e["message_id"] == mid for e in events["events"]) and events["next_cursor"] > 0
        assert read.get("/v1/stats").json()["recipients"]["delivered"] >= 1
        assert read.get("/v1/alerts").json() == {"alerts": []}  # a handful of messages crosses no line


def test_a_template_of_the_data_directory_is_used_by_the_running_server(served: dict[str, Any]) -> None:
    """``<data_dir>/templates``: an application's own templates, for the API (and SMTP submission
    and the SES endpoint) of a server that is already running."""
    folder = served["data"] / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "welcome.en.subject.txt").write_text("Welcome, {{ name }}\n", "utf-8")
    (folder / "welcome.en.text.txt").write_text("Hello {{ name }}, your team is {{ team }}.\n", "utf-8")
    with api(served, "send") as send, api(served, "read") as read:
        body = {
            "from": "no-reply@app.example",
            "to": ["lee@accept.mailfate.test"],
            "template": "welcome",
            "variables": {"name": "Lee", "team": "core"},
        }
        answer = send.post("/v1/messages", json=body)
        assert answer.status_code == 202, answer.text
        view = read.get(f"/v1/messages/{answer.json()['message_id']}").json()
        assert view["subject"] == "Welcome, Lee"
        missing = send.post("/v1/messages", json={**body, "template": "no-such-template"})
        assert missing.status_code == 422 and "welcome" in missing.text  # names what there is


def test_no_key_wrong_key_and_wrong_scope(served: dict[str, Any]) -> None:
    with api(served, None) as anon, api(served, "read") as read:
        assert anon.get("/v1/stats").status_code == 401
        assert anon.get("/v1/stats", headers={"Authorization": "Bearer mf_nope"}).status_code == 401
        assert (
            read.post(
                "/v1/messages",
                json={"from": "a@app.example", "to": ["b@x.test"], "subject": "s", "text": "t"},
            ).status_code
            == 403
        )
        assert read.post("/v1/suppressions", json={"address": "x@y.test"}).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"from": "a@app.example", "to": ["b@x.test"], "subject": "s", "text": "t", "bcc": ["c@d.test"]},
            "bcc",
        ),
        ({"from": "a@app.example", "to": [], "subject": "s", "text": "t"}, "to"),
        ({"from": "a@app.example", "to": ["not-an-address"], "subject": "s", "text": "t"}, "not-an-address"),
        (
            {"from": "a@app.example", "to": ["b@x.test"], "subject": "s\r\nBcc: c@d.test", "text": "t"},
            "subject",
        ),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    served: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    with api(served, "send") as send:
        answer = send.post("/v1/messages", json=body)
    assert answer.status_code == 422 and field in answer.text


def test_malformed_json_oversized_bodies_and_injection_in_search(served: dict[str, Any]) -> None:
    with api(served, "send") as send, api(served, "read") as read:
        bad = send.post("/v1/messages", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad.status_code == 422
        huge = send.post(
            "/v1/messages", content=b"x" * (11 * 1024 * 1024), headers={"Content-Type": "application/json"}
        )
        assert huge.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
            for _ in range(11):
                yield b"x" * (1024 * 1024)

        chunked = send.post("/v1/messages", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        sneaky = read.get(
            "/v1/messages", params={"recipient": "' OR 1=1 --", "domain": "x'; DROP TABLE messages;--"}
        )
        assert sneaky.status_code == 200 and sneaky.json()["messages"] == []
        assert read.get("/v1/messages", params={"tag": '" OR "1'}).status_code == 422
        assert read.get("/v1/stats").status_code == 200  # the tables are still there


def test_suppressions_crud_and_a_refused_send(served: dict[str, Any]) -> None:
    with api(served, "admin") as admin, api(served, "send") as send:
        assert (
            admin.post(
                "/v1/suppressions", json={"address": "Lee@Daum.test", "reason": "complaint"}
            ).status_code
            == 201
        )
        listed = admin.get("/v1/suppressions").json()["suppressions"]
        assert any(s["address"] == "lee@daum.test" for s in listed)
        refused = send.post(
            "/v1/messages",
            json={"from": "a@app.example", "to": ["lee@daum.test"], "subject": "s", "text": "t"},
        )
        assert (
            refused.status_code == 409 and refused.json()["detail"]["suppressed"][0]["reason"] == "complaint"
        )
        assert admin.delete("/v1/suppressions/lee@daum.test").status_code == 200
        assert admin.delete("/v1/suppressions/lee@daum.test").status_code == 404


def test_smtp_submission_in_serve_is_tracked_like_api_mail(served: dict[str, Any]) -> None:
    import asyncio
    import ssl

    import aiosmtplib

    _, port = served["submission"].rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(served["data"] / "submission-cert.pem"))

    async def submit() -> str:
        client = aiosmtplib.SMTP(hostname="localhost", port=int(port), tls_context=context, timeout=10)
        async with client:
            await client.login("app", served["keys"]["send"])
            msg = (
                b"From: no-reply@app.example\r\nTo: park@accept.mailfate.test\r\nSubject: hi\r\n\r\nbody\r\n"
            )
            _, text = await client.sendmail("no-reply@app.example", ["park@accept.mailfate.test"], msg)
        return text.rsplit(" ", 1)[1]

    mid = asyncio.run(submit())
    with api(served, "read") as read:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and read.get(f"/v1/messages/{mid}").json()["fate"] != "delivered":
            time.sleep(0.05)
        assert read.get(f"/v1/messages/{mid}").json()["fate"] == "delivered"


def test_metrics_show_fates_domains_and_latency(served: dict[str, Any]) -> None:
    with api(served, "send") as send, api(served, "read") as read:
        mid = send.post(
            "/v1/messages",
            json={"from": "a@app.example", "to": ["m@accept.mailfate.test"], "subject": "s", "text": "t"},
        ).json()["message_id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and read.get(f"/v1/messages/{mid}").json()["fate"] != "delivered":
            time.sleep(0.05)
    text = httpx.get(served["url"] + "/metrics", timeout=10).text
    assert 'mailfate_recipients{fate="delivered"}' in text
    assert 'mailfate_recipients_by_domain{domain="accept.mailfate.test",fate="delivered"}' in text
    assert "mailfate_queue_depth" in text
    assert 'mailfate_submit_to_delivered_seconds_count{domain="accept.mailfate.test"}' in text
    assert 'mailfate_attempts_total{outcome="delivered",reason="delivered"}' in text


def test_api_and_workers_run_apart_on_one_store(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text(f'data_dir = "{tmp_path / "d"}"\n[inbound]\nport = 0\n', "utf-8")
    made = mailfate("keys", "create", "--scope", "send,read", "--json", "--data-dir", str(tmp_path / "d"))
    key = json.loads(made.stdout)["key"]
    api_args = [
        "serve",
        "--config",
        str(config),
        "--no-workers",
        "--http-port",
        "0",
        "--submission-port",
        "-1",
    ]
    with running(*api_args) as ready, running("worker", "--config", str(config)) as worker:
        assert ready["inbound"] is None
        assert worker["metrics"].startswith("http://127.0.0.1:")  # the worker serves its own /metrics
        with httpx.Client(
            base_url=ready["http"], headers={"Authorization": f"Bearer {key}"}, timeout=20
        ) as client:
            mid = client.post(
                "/v1/messages",
                json={"from": "a@app.example", "to": ["x@accept.mailfate.test"], "subject": "s", "text": "t"},
            ).json()["message_id"]
            deadline = time.monotonic() + 20
            while (
                time.monotonic() < deadline
                and client.get(f"/v1/messages/{mid}").json()["fate"] != "delivered"
            ):
                time.sleep(0.05)
            assert client.get(f"/v1/messages/{mid}").json()["fate"] == "delivered"
        # the attempt counters and latency live in the worker's process: scraped there
        scraped = httpx.get(worker["metrics"], timeout=10).text
        assert 'mailfate_attempts_total{outcome="delivered",reason="delivered"} 1.0' in scraped
        assert 'mailfate_submit_to_delivered_seconds_count{domain="accept.mailfate.test"} 1.0' in scraped
        assert 'mailfate_recipients{fate="delivered"}' in scraped
