"""The inbox over the wire: a SimulatorThread on free ports, mail sent over real SMTP, the API read
over real HTTP (httpx), the /api/events websocket, and the npm client ``mailpit-api`` (a Mailpit
client nobody here wrote) driving it from Node."""

from __future__ import annotations

import importlib.util
import json
import shutil
import smtplib
import socket
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import SimulatorThread

WS = importlib.util.find_spec("websockets") is not None
NAVER = {"domains": {"naver.test": {"personalities": ["accept"], "preset": "naver"}}}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorThread]:
    thread = SimulatorThread(
        load_config(overrides=NAVER), maildir=tmp_path / "maildir", journal=tmp_path / "j.jsonl", http_port=0
    )
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def message(to: str, subject: str, body: str = "Your code is 246810", attach: bool = False) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sign-up <no-reply@app.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p>", subtype="html")
    if attach:
        msg.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="terms.pdf")
    return msg


def send(sim: SimulatorThread, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", sim.port, timeout=10) as s:
        s.send_message(msg, from_addr="bounce@app.example")


def test_messages_over_smtp_are_listed_read_and_transcribed(sim: SimulatorThread) -> None:
    send(sim, message("alice@accept.mailfate.test", "Welcome", attach=True))
    send(sim, message("bob@accept.mailfate.test", "Reset"))
    with httpx.Client(base_url=sim.http_url, timeout=10) as c:
        page = c.get("/api/v1/messages").json()
        assert page["total"] == 2 and [m["Subject"] for m in page["messages"]] == ["Reset", "Welcome"]
        hit = c.get("/api/v1/search", params={"query": "to:alice@accept.mailfate.test"}).json()
        (summary,) = hit["messages"]
        assert summary["Attachments"] == 1 and summary["From"] == {
            "Name": "Sign-up",
            "Address": "no-reply@app.example",
        }
        detail = c.get(f"/api/v1/message/{summary['ID']}").json()
        assert "246810" in detail["Text"] and "<p>" in detail["HTML"]
        part = detail["Attachments"][0]
        got = c.get(f"/api/v1/message/{summary['ID']}/part/{part['PartID']}")
        assert got.content == b"%PDF-1.4 test" and part["FileName"] == "terms.pdf"
        raw = c.get(f"/api/v1/message/{summary['ID']}/raw").text
        assert raw.startswith("Received: from ") and "Subject: Welcome" in raw
        transcript = c.get(f"/api/v1/mailfate/message/{summary['ID']}/transcript").json()["Transcript"]
        lines = [(t["Direction"], t["Line"].split(" ")[0]) for t in transcript]
        assert ("C", "ehlo") in [(d, w.lower()) for d, w in lines]
        assert lines[-1][0] == "S" and transcript[-1]["Line"].startswith("250 2.0.0")
        rcpt_reply = next(t for t in transcript if t["Line"].startswith("250 2.1.5"))
        assert rcpt_reply["Why"] == "accepted: no personality objected"
        assert sim.stored("accept.mailfate.test")  # the maildir is still written


def test_rules_first_attempt_451_then_250_in_the_attempts(sim: SimulatorThread) -> None:
    rule = [{"match": "*@naver.test", "reply": "451 4.7.1 DKIM soft fail", "times": 1, "then": "accept"}]
    with httpx.Client(base_url=sim.http_url, timeout=10) as c:
        assert c.put("/api/v1/mailfate/rules", json=rule).status_code == 200
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(sim, message("kim@naver.test", "Try 1"))
        assert refused.value.recipients["kim@naver.test"][0] == 451
        send(sim, message("kim@naver.test", "Try 2"))
        attempts = c.get("/api/v1/mailfate/attempts", params={"to": "kim@naver.test"}).json()["Attempts"]
    assert [(a["Code"], a["Status"], a["Outcome"]) for a in attempts] == [
        (451, "4.7.1", "deferred"),
        (250, "2.0.0", "accepted"),
    ]
    assert attempts[0]["Personality"] == "rule 1 (*@naver.test)" and attempts[0]["Stage"] == "rcpt"
    assert attempts[1]["MessageID"] and attempts[1]["Personality"] == "rule 1 (*@naver.test)"
    inbox = sim.inbox
    (msg,) = inbox.messages("to:kim@naver.test")
    assert msg.id == attempts[1]["MessageID"]
    assert any("rule 1" in t.personality for t in msg.transcript)


def test_chaos_recipient_trigger_refuses_rcpt(sim: SimulatorThread) -> None:
    with httpx.Client(base_url=sim.http_url, timeout=10) as c:
        c.put("/api/v1/chaos", json={"Recipient": {"ErrorCode": 550, "Probability": 100}})
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(sim, message("x@accept.mailfate.test", "chaos"))
        assert refused.value.recipients["x@accept.mailfate.test"][0] == 550
        c.put(
            "/api/v1/chaos",
            json={
                "Recipient": {"ErrorCode": 550, "Probability": 0},
                "Sender": {"ErrorCode": 451, "Probability": 100},
            },
        )
        with pytest.raises(smtplib.SMTPSenderRefused):
            send(sim, message("x@accept.mailfate.test", "chaos"))
        attempt = c.get("/api/v1/mailfate/attempts", params={"to": "x@accept.mailfate.test"}).json()[
            "Attempts"
        ][0]
    assert attempt["Personality"] == "chaos Recipient" and attempt["Outcome"] == "rejected"


def test_a_one_megabyte_query_is_a_4xx_not_a_500(sim: SimulatorThread) -> None:
    host, port = sim.http_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /api/v1/search?query=" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    status = int(head.split(b" ")[1]) if head else 0
    assert 400 <= status < 500, head[:200]


def test_events_websocket_announces_new_messages(sim: SimulatorThread) -> None:
    ws_client = pytest.importorskip("websockets.sync.client")
    with ws_client.connect(sim.http_url.replace("http", "ws") + "/api/events", open_timeout=10) as ws:
        threading.Timer(0.3, send, (sim, message("eve@accept.mailfate.test", "Live"))).start()
        first = json.loads(ws.recv(timeout=10))
        stats = json.loads(ws.recv(timeout=10))
    assert first["Type"] == "new" and first["Data"]["Subject"] == "Live"
    assert first["Data"]["To"] == [{"Name": "", "Address": "eve@accept.mailfate.test"}]
    assert stats == {"Type": "stats", "Data": {"Total": 1, "Unread": 1, "Version": stats["Data"]["Version"]}}


def test_inbox_wait_returns_the_code(sim: SimulatorThread) -> None:
    threading.Timer(
        0.3, send, (sim, message("code@accept.mailfate.test", "Your code", "Code: 908172"))
    ).start()
    assert sim.inbox.wait("code@accept.mailfate.test", code=True, timeout=10) == "908172"
    with pytest.raises(TimeoutError):
        sim.inbox.wait("code@accept.mailfate.test", timeout=0.3)  # marked read: no second message


NODE_SCRIPT = r"""
import { MailpitClient } from "mailpit-api";
import readline from "node:readline";
const base = process.argv[2];
const withEvents = process.argv[3] === "events";
const mp = new MailpitClient(base);
const out = {};
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const events = [];
const ws = withEvents ? new WebSocket(base.replace("http", "ws") + "/api/events") : null;
if (ws) {
  ws.onmessage = (e) => events.push(JSON.parse(e.data));
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
}
out.info = await mp.getInfo();
console.log("READY");
await nextLine();
const deadline = Date.now() + (ws ? 5000 : 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
while (!events.some((e) => e.Type === "new") && Date.now() < deadline) await sleep(50);
out.event = events.find((e) => e.Type === "new") ?? null;
ws?.close();
const list = await mp.listMessages();
out.count = list.messages_count;
const found = await mp.searchMessages({ query: "to:node@accept.mailfate.test" });
out.found = found.messages.map((m) => m.Subject);
const id = found.messages[0].ID;
const summary = await mp.getMessageSummary(id);
out.subject = summary.Subject;
out.attachments = summary.Attachments.map((a) => [a.PartID, a.FileName, a.ContentType]);
out.headers = (await mp.getMessageHeaders(id))["Subject"];
out.source = (await mp.getMessageSource(id)).includes("Subject: From Node");
const blob = await mp.getMessageAttachment(id, summary.Attachments[0].PartID);
out.part = Buffer.from(await blob.arrayBuffer()).toString();
out.text = await mp.renderMessageText(id);
out.html = await mp.renderMessageHTML(id);
out.readAfterOpen = (await mp.searchMessages({ query: "is:read" })).messages_count;
await mp.setReadStatus({ IDs: [id], Read: false });
out.unreadAfterPut = (await mp.searchMessages({ query: "is:unread" })).messages_count;
out.waited = (await mp.waitForMessage({ query: "subject:\"From Node\"" }, { timeout: 2000 })).ID === id;
out.chaos = await mp.setChaosTriggers({ Recipient: { ErrorCode: 451, Probability: 100 } });
out.chaosGet = await mp.getChaosTriggers();
await mp.setChaosTriggers({ Recipient: { ErrorCode: 451, Probability: 0 } });
out.config = (await mp.getConfiguration()).ChaosEnabled;
await mp.deleteMessagesBySearch({ query: "subject:other" });
out.afterSearchDelete = (await mp.listMessages()).total;
await mp.deleteMessages();
out.afterDeleteAll = (await mp.listMessages()).total;
try {
  await mp.getMessageSummary("no-such-id");
  out.missing = "no error";
} catch (e) {
  out.missing = String(e.message);
}
console.log(JSON.stringify(out));
process.exit(0);
"""


@pytest.fixture(scope="module")
def mailpit_api(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node/npm are not installed: the mailpit-api client test needs them")
    folder = tmp_path_factory.mktemp("mailpit-api")
    done = subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "mailpit-api@2"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"npm could not install mailpit-api: {done.stderr.strip()[-300:]}")
    return folder


def test_the_mailpit_api_npm_client_drives_the_simulator(sim: SimulatorThread, mailpit_api: Path) -> None:
    script = mailpit_api / "drive.mjs"
    script.write_text(NODE_SCRIPT)
    send(sim, message("other@accept.mailfate.test", "other"))
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.Popen(
        [
            node,
            "--experimental-websocket",
            "--no-warnings",
            str(script),
            sim.http_url,
            "events" if WS else "-",
        ],
        cwd=mailpit_api,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "READY"
        send(sim, message("node@accept.mailfate.test", "From Node", attach=True))
        proc.stdin.write("sent\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert got["info"]["Messages"] == 1 and "RuntimeStats" in got["info"]
    if WS:  # uvicorn serves websockets only with the websockets package installed
        assert got["event"]["Type"] == "new" and got["event"]["Data"]["Subject"] == "From Node"
    assert got["count"] == 2 and got["found"] == ["From Node"]
    assert got["subject"] == "From Node" and got["attachments"] == [["2", "terms.pdf", "application/pdf"]]
    assert got["headers"] == ["From Node"] and got["source"] is True and got["part"] == "%PDF-1.4 test"
    assert "246810" in got["text"] and got["html"].startswith("<p>Your code is 246810")
    assert got["readAfterOpen"] == 1 and got["unreadAfterPut"] == 2 and got["waited"] is True
    assert got["chaos"]["Recipient"] == {"ErrorCode": 451, "Probability": 100} == got["chaosGet"]["Recipient"]
    assert got["config"] is True
    assert got["afterSearchDelete"] == 1 and got["afterDeleteAll"] == 0
    assert "404" in got["missing"]
