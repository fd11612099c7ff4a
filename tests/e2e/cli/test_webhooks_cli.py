"""``mailfate webhooks list|log|verify``, and a real ``mailfate serve`` process POSTing signed
events to a receiver on 127.0.0.1, its delivery log at ``GET /v1/webhooks/log``."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app
from mailfate.model import NewMessage
from mailfate.store import Store
from mailfate.tracking.webhooks_out import sign, verify_signature
from tests.support.serve import mailfate, running
from tests.support.webhook_receiver import Receiver

runner = CliRunner()
SECRET = "whsec_cli_secret"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith("MAILFATE_"):
            monkeypatch.delenv(var)


def config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "mailfate.toml"
    path.write_text(
        f'[[webhooks]]\nname = "app"\nurl = "{url}"\nsecret = "{SECRET}"\nstart = "beginning"\n'
        f'[[webhooks]]\nname = "ops"\nurl = "{url}/ops"\nsecret = "{SECRET}"\n'
        'events = ["bounced", "alert"]\n',
        "utf-8",
    )
    return path


def test_verify_accepts_the_right_secret_and_says_why_it_refuses(tmp_path: Path, clean_env: None) -> None:
    body = b'{"id":7,"type":"attempt"}'
    header = sign(SECRET, body, int(time.time()))
    saved = tmp_path / "body.json"
    saved.write_bytes(body)
    ok = runner.invoke(app, ["webhooks", "verify", "--secret", SECRET, "--header", header, str(saved)])
    assert ok.exit_code == 0 and "valid" in ok.stdout
    wrong = runner.invoke(app, ["webhooks", "verify", "--secret", "nope", "--header", header, str(saved)])
    assert wrong.exit_code == 1 and "does not match" in wrong.stdout
    old = sign(SECRET, body, int(time.time()) - 3600)
    stale = runner.invoke(app, ["webhooks", "verify", "--secret", SECRET, "--header", old, str(saved)])
    assert stale.exit_code == 1 and "old" in stale.stdout
    lenient = ["--tolerance", "7200"]
    assert runner.invoke(
        app, ["webhooks", "verify", "--secret", SECRET, "--header", old, *lenient, str(saved)]
    )
    missing = runner.invoke(app, ["webhooks", "verify", "--secret", SECRET, "--header", header, "nofile"])
    assert missing.exit_code == 2


def test_list_and_log_show_positions_backlog_and_deliveries(tmp_path: Path, clean_env: None) -> None:
    data = tmp_path / "d"
    config = config_file(tmp_path, "https://hooks.example.com/in")
    store = Store.open(data / "mailfate.db")
    try:
        for i in range(3):
            store.queue.submit(
                NewMessage("a@app.example", (f"u{i}@naver.test",), b"Subject: x\r\n\r\nx\r\n"), NOW
            )
        ids = [e.id for e in store.messages.events_after(0)]
        until = NOW + timedelta(minutes=1)
        store.webhooks.claim_webhook("app", "test", at=NOW, until=until, from_start=True)
        store.webhooks.record_webhook(
            "app",
            "test",
            ids[0],
            at=NOW,
            attempt=1,
            outcome="delivered",
            status_code=200,
            error="",
            duration_ms=4,
        )
        store.webhooks.record_webhook(
            "app", "test", ids[1], at=NOW, attempt=1, outcome="retry", status_code=502, error="HTTP 502: bad",
            duration_ms=9, next_at=NOW + timedelta(seconds=5),
        )  # fmt: skip
        store.webhooks.claim_webhook("gone", "test", at=NOW, until=until)
    finally:
        store.close()
    common = ["--config", str(config), "--data-dir", str(data)]
    listed = runner.invoke(app, ["webhooks", "list", *common, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["app"]["position"] == ids[0] and rows["app"]["backlog"] == 2
    assert rows["app"]["attempts"] == 1 and rows["app"]["last_error"] == "HTTP 502: bad"
    assert rows["ops"]["position"] is None  # configured, not started yet
    assert rows["gone"]["url"] is None and rows["gone"]["position"] == ids[-1]
    table = runner.invoke(app, ["webhooks", "list", *common])
    assert table.exit_code == 0 and "Webhooks" in table.stdout and "gone" in table.stdout
    logged = runner.invoke(app, ["webhooks", "log", *common, "--json"])
    entries = [json.loads(line) for line in logged.stdout.splitlines()]
    assert [(e["event_id"], e["outcome"], e["status_code"]) for e in entries] == [
        (ids[1], "retry", 502), (ids[0], "delivered", 200),
    ]  # fmt: skip
    one = runner.invoke(app, ["webhooks", "log", *common, "--limit", "1", "--subscriber", "app"])
    assert one.exit_code == 0 and "retry" in one.stdout and "delivered" not in one.stdout
    assert runner.invoke(app, ["webhooks", "log", *common, "--subscriber", "ops", "--json"]).stdout == ""


def test_a_bad_webhook_configuration_stops_the_command(tmp_path: Path, clean_env: None) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[webhooks]]\nname = "x"\nurl = "https://x.example"\n', "utf-8")
    result = runner.invoke(app, ["webhooks", "list", "--config", str(config), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "without a secret is refused" in result.stderr


def test_serve_posts_signed_events_and_serves_the_delivery_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Receiver() as receiver:
        config = config_file(tmp_path, f"{receiver.url}/hook")
        common = ["--config", str(config), "--data-dir", str(data)]
        keys = {
            scope: json.loads(mailfate("keys", "create", "--scope", scope, "--json", *common).stdout)["key"]
            for scope in ("send", "read")
        }
        args = ["serve", *common, "--http-port", "0", "--inbound-port", "0", "--submission-port", "-1"]
        with running(*args) as ready:
            url = ready["http"]
            with httpx.Client(base_url=url, timeout=20) as http:
                answer = http.post(
                    "/v1/messages",
                    json={
                        "from": "a@app.example",
                        "to": ["kim@accept.mailfate.test"],
                        "subject": "s",
                        "text": "t",
                    },
                    headers={"Authorization": f"Bearer {keys['send']}"},
                )
                assert answer.status_code == 202, answer.text
                mid = answer.json()["message_id"]

                def delivered() -> bool:
                    return any(
                        json.loads(r.body).get("outcome") == "delivered"
                        for r in receiver.received()
                        if r.path == "/hook"
                    )

                deadline = time.monotonic() + 30
                while not delivered() and time.monotonic() < deadline:
                    time.sleep(0.05)
                got = [r for r in receiver.received() if r.path == "/hook"]
                bodies = [json.loads(r.body) for r in got]
                assert [(b["type"], b["outcome"]) for b in bodies][:2] == [
                    ("queued", None),
                    ("attempt", "delivered"),
                ]
                assert {b["message_id"] for b in bodies} == {mid}
                for r in got:
                    assert verify_signature(SECRET, r.headers["mailfate-signature"], r.body)
                    assert r.headers["mailfate-event-id"] == str(json.loads(r.body)["id"])
                assert not [r for r in receiver.received() if r.path == "/hook/ops"]  # wants bounces only
                read = {"Authorization": f"Bearer {keys['read']}"}
                assert http.get("/v1/webhooks/log").status_code == 401
                log = http.get("/v1/webhooks/log", params={"subscriber": "app"}, headers=read).json()
                assert {e["outcome"] for e in log["log"]} == {"delivered"}
                assert {e["event_id"] for e in log["log"]} >= {b["id"] for b in bodies[:2]}
                page = http.get("/v1/webhooks/log", params={"limit": 1}, headers=read).json()
                assert len(page["log"]) == 1 and page["next_before"] == page["log"][0]["id"]
                assert http.get("/v1/webhooks/log", params={"limit": 0}, headers=read).status_code == 422
        listed = mailfate("webhooks", "list", "--json", *common)
        rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
        assert rows["app"]["position"] >= bodies[1]["id"] and rows["app"]["last_error"] == ""


def test_config_show_hides_webhook_secrets(tmp_path: Path, clean_env: None) -> None:
    config = config_file(tmp_path, "https://hooks.example.com/in")
    shown = runner.invoke(
        app, ["config", "show", "--json", "--config", str(config), "--data-dir", str(tmp_path)]
    )
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.stdout
    hooks = json.loads(shown.stdout)["webhooks"]
    assert [(h["name"], h["secret"]) for h in hooks] == [("app", "(set)"), ("ops", "(set)")]
