"""The SMTP server feeding the inbox: transcripts, attempts, rules at RCPT and DATA, chaos, --no-inbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from mailfate.simulator.inbox import Inbox
from tests.unit.simulator.simkit import MSG, FakeClock, RawClient, send, serve

GREY = "greylist.mailfate.test"


def _inbox(sim: Any) -> Inbox:
    assert sim.inbox is not None
    inbox: Inbox = sim.inbox
    return inbox


def test_greylisted_first_attempt_then_accepted_retry_are_both_attempts(tmp_path: Path) -> None:
    clock = FakeClock()

    async def body(sim: Any) -> None:
        assert (await send(sim.port, [f"kim@{GREY}"])).startswith("451 4.7.1")
        clock.advance(300)
        assert (await send(sim.port, [f"kim@{GREY}"])).startswith("250 2.0.0")
        tries = _inbox(sim).attempts(f"KIM@{GREY}")
        assert [(a.code, a.status, a.outcome, a.personality) for a in tries] == [
            (451, "4.7.1", "deferred", "greylist"),
            (250, "2.0.0", "accepted", ""),
        ]
        assert (tries[1].at - tries[0].at).total_seconds() == 300
        assert tries[0].why.startswith("deferred") and tries[0].message is None
        (msg,) = _inbox(sim).newest()
        assert tries[1].message == msg.id and msg.rcpts == (f"kim@{GREY}",)
        lines = [(t.direction, t.line.split(" ")[0].upper()) for t in msg.transcript]
        assert lines[0] == ("S", "220")  # the banner: the session's opening is in every transcript
        assert ("C", "EHLO") in lines and ("C", "DATA") in lines
        assert msg.transcript[-1].line.startswith("250 2.0.0 Ok") and msg.transcript[-1].direction == "S"
        assert any(t.direction == "*" and t.line.startswith("<message: ") for t in msg.transcript)

    serve(tmp_path, body, {"server": {"greylist_delay": 300}}, clock=clock)


def test_many_messages_on_one_session_each_get_their_own_transaction(tmp_path: Path) -> None:
    def talk(port: int) -> None:
        c = RawClient(port)
        c.cmd(b"EHLO out.app.example")
        for i in range(3):
            assert c.cmd(b"MAIL FROM:<a@app.example>").startswith("250")
            assert c.cmd(f"RCPT TO:<u{i}@accept.mailfate.test>".encode()).startswith("250")
            assert c.cmd(b"DATA").startswith("354")
            assert c.cmd(MSG + b".").startswith("250")
        c.cmd(b"QUIT")
        c.close()

    async def body(sim: Any) -> None:
        await asyncio.to_thread(talk, sim.port)
        msgs = _inbox(sim).newest()
        assert len(msgs) == 3
        for msg in msgs:
            rcpts = [t.line for t in msg.transcript if t.line.upper().startswith("RCPT")]
            assert rcpts == [
                f"RCPT TO:<{msg.rcpts[0]}>"
            ]  # only its own transaction, after the shared opening
            assert sum(1 for t in msg.transcript if t.line.upper().startswith("EHLO")) == 1

    serve(tmp_path, body)


def dropped(port: int) -> None:
    c = RawClient(port)
    c.cmd(b"EHLO x")
    c.cmd(b"MAIL FROM:<a@app.example>")
    c.send(b"RCPT TO:<drop@accept.mailfate.test>\r\n")
    assert c.sock.recv(100) == b""  # dropped without a reply
    c.close()


def test_data_and_drop_rules(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        sim.rules.set([
            {"match": "dkim@accept.mailfate.test", "reply": "550 5.7.1 DKIM fail", "at": "data"},
            {"match": "drop@accept.mailfate.test", "reply": "drop"},
        ])  # fmt: skip
        assert (await send(sim.port, ["dkim@accept.mailfate.test"])).startswith("550 5.7.1 DKIM fail")
        (a,) = _inbox(sim).attempts("dkim@accept.mailfate.test")
        assert (a.stage, a.code, a.personality, a.outcome) == (
            "data",
            550,
            "rule 1 (dkim@accept.mailfate.test)",
            "rejected",
        )
        await asyncio.to_thread(dropped, sim.port)
        (d,) = _inbox(sim).attempts("drop@accept.mailfate.test")
        assert d.outcome == "dropped" and d.personality.startswith("rule 2")
        assert len(_inbox(sim)) == 0

    serve(tmp_path, body)


def test_the_auth_secret_is_not_in_the_transcript(tmp_path: Path) -> None:
    def talk(port: int) -> None:
        c = RawClient(port)
        c.cmd(b"EHLO x")
        c.cmd(b"AUTH PLAIN c2VjcmV0")
        for line in (b"MAIL FROM:<a@app.example>", b"RCPT TO:<u@accept.mailfate.test>", b"DATA"):
            c.cmd(line)
        assert c.cmd(MSG + b".").startswith("250")
        c.close()

    async def body(sim: Any) -> None:
        await asyncio.to_thread(talk, sim.port)
        (msg,) = _inbox(sim).newest()
        text = "\n".join(t.line for t in msg.transcript)
        assert "AUTH PLAIN ***" in text and "c2VjcmV0" not in text

    serve(tmp_path, body)


def test_chaos_sender_and_no_inbox(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        sim.chaos.set({"Sender": {"ErrorCode": 421, "Probability": 100}})
        reply = await send(sim.port, ["a@accept.mailfate.test"])
        assert reply.startswith("421 4.7.1 Sender rejected (chaos)")

    serve(tmp_path / "a", body)

    async def off(sim: Any) -> None:
        assert sim.inbox is None
        assert (await send(sim.port, ["a@accept.mailfate.test"])).startswith("250")
        assert sim.stored("accept.mailfate.test")

    serve(tmp_path / "b", off, inbox=False)


def test_restart_over_the_same_maildir_rebuilds_the_index(tmp_path: Path) -> None:
    ids: list[str] = []

    async def first(sim: Any) -> None:
        await send(sim.port, ["a@accept.mailfate.test"])
        ids.extend(m.id for m in _inbox(sim).newest())

    async def second(sim: Any) -> None:
        assert [m.id for m in _inbox(sim).newest()] == ids
        assert _inbox(sim).search("to:a@accept.mailfate.test").matched == 1

    serve(tmp_path, first)
    serve(tmp_path, second)


@pytest.mark.simulator(overrides={"domains": {"naver.test": {"personalities": ["accept"]}}})
def test_the_pytest_fixtures_wait_for_the_code_and_list_the_attempts(
    mailfate_simulator: Any, mailfate_inbox: Any
) -> None:
    mailfate_inbox.set_rules(
        [{"match": "*@naver.test", "reply": "451 4.7.1 DKIM soft fail", "times": 2, "then": "accept"}]
    )
    replies = [asyncio.run(send(mailfate_simulator.port, ["kim@naver.test"])) for _ in range(3)]
    assert [r[:3] for r in replies] == ["451", "451", "250"]
    assert mailfate_inbox.wait(to="kim@naver.test", code=True, timeout=5) == "123456"  # simkit's MSG
    assert [a.code for a in mailfate_inbox.attempts("kim@naver.test")] == [451, 451, 250]
    assert mailfate_simulator.http_url.startswith("http://127.0.0.1:")
    with pytest.raises(TimeoutError):
        mailfate_inbox.wait(to="kim@naver.test", timeout=0.2)
