"""The server's routing, storage, journal and error handling, with a real aiosmtplib client."""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import aiosmtplib
import pytest

from mailfate.simulator import runtime
from mailfate.simulator.model import AcceptedMessage, DataContext, Personality, RcptContext, Reply, ReportSink
from mailfate.simulator.personalities import PERSONALITIES, personality_class
from tests.unit.simulator.simkit import MSG, FakeClock, journal, send, serve


def test_domains_are_case_insensitive_and_aliases_share_the_domain(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["Someone@ACCEPT.mailfate.TEST"])).startswith("250 2.0.0")
        assert (await send(sim.port, ["nobody@hanmail.test"])).startswith("550 5.1.1")
        assert (await send(sim.port, ["kim@hanmail.test"])).startswith("250")
        assert len(sim.stored("daum.test")) == 1
        assert sim.stored("hanmail.test") == sim.stored("daum.test")
        counts = sim.counters()["domains"]
        assert counts["daum.test"]["outcomes"]["rejected"] == 1
        assert "hanmail.test" not in counts

    serve(tmp_path, body)


def test_unknown_domains_are_accepted_by_default_or_refused_or_served_like_a_configured_one(
    tmp_path: Path,
) -> None:
    async def accepted(sim: Any) -> None:
        assert (await send(sim.port, ["a@elsewhere.example"])).startswith("250 2.0.0 Ok: queued as ")
        assert len(sim.stored("elsewhere.example")) == 1
        assert sim.counters()["domains"]["elsewhere.example"]["personalities"] == ["accept"]

    serve(tmp_path, accepted)

    async def refused(sim: Any) -> None:
        assert (
            await send(sim.port, ["a@elsewhere.example"])
            == "554 5.7.1 <a@elsewhere.example>: Relay access denied"
        )
        assert (await send(sim.port, ["a@accept.mailfate.test"])).startswith("250")

    serve(tmp_path / "1", refused, {"server": {"unknown_domains": "reject"}})

    async def served(sim: Any) -> None:
        assert (await send(sim.port, ["unknown1@elsewhere.example"])).startswith("550 5.1.1")
        assert (await send(sim.port, ["real@elsewhere.example"])).startswith("250")
        assert len(sim.stored("elsewhere.example")) == 1
        assert sim.counters()["domains"]["elsewhere.example"]["personalities"] == ["unknown-users"]

    serve(tmp_path / "2", served, {"server": {"unknown_domains": "unknown-users.mailfate.test"}})


def test_stored_copy_journal_line_and_provider_texts(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        reply = await send(
            sim.port, ["x@accept.mailfate.test", "y@accept.mailfate.test", "z@greylist.mailfate.test"]
        )
        assert reply.startswith("250 2.0.0 Ok: queued as ")
        assert "451 4.7.1" in reply
        gmail = await send(sim.port, ["nobody@gmail.test"])
        assert gmail.startswith("550 5.1.1 The email account that you tried to reach does not exist.")
        [path] = sim.stored("accept.mailfate.test")
        content = path.read_bytes()
        assert content.startswith(
            b"Received: from out.app.example (unknown [127.0.0.1])\r\n\tby mx.mailfate.test"
        )
        assert content.endswith(MSG)
        assert not list(path.parent.glob(".*.tmp"))

    serve(tmp_path, body)
    first = journal(tmp_path)[0]
    assert first["event"] == "transaction" and first["outcome"] == "accepted"
    assert first["helo"] == "out.app.example" and first["client_ip"] == "127.0.0.1"
    assert first["mail_from"] == "bounces@app.example"
    assert [r["rcpt"] for r in first["rcpts"]] == [
        "x@accept.mailfate.test",
        "y@accept.mailfate.test",
        "z@greylist.mailfate.test",
    ]
    assert first["rcpts"][2]["reply"]["code"] == 451 and first["rcpts"][2]["personality"] == "greylist"
    assert first["data"]["code"] == 250 and first["queue_id"] in first["data"]["text"]
    assert first["message_id"] == "<m1@app.example>" and first["size"] == len(MSG)
    assert first["stored"] == [str(tmp_path / "mail" / "accept.mailfate.test" / f"{first['queue_id']}.eml")]
    second = journal(tmp_path)[1]
    assert second["outcome"] == "rejected" and second["data"] is None
    assert second["rcpts"][0]["reply"]["text"].startswith("550-5.1.1 The email account")


class _Boom(Personality):
    name: ClassVar[str] = "boom"

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        if ctx.local_part == "crash":
            raise RuntimeError("secret internal detail")
        return None

    async def on_data(self, ctx: DataContext) -> Reply | None:
        ctx.add_headers.append(("X-Boom", "checked"))
        return None

    async def after_accept(self, message: AcceptedMessage, reports: ReportSink) -> None:
        raise ValueError("after-accept bug")


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(PERSONALITIES, "boom", "test:Boom")
    monkeypatch.setattr(
        runtime, "personality_class", lambda slug: _Boom if slug == "boom" else personality_class(slug)
    )
    return {"domains": {"boom.test": {"personalities": ["boom", "accept"]}}}


def test_a_personality_raising_is_451_with_a_ref_and_no_detail(
    tmp_path: Path, boom: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    async def body(sim: Any) -> None:
        with caplog.at_level(logging.ERROR):
            reply = await send(sim.port, ["crash@boom.test"])
        assert reply.startswith("451 4.3.0 Error: queue file write error (ref ")
        assert "secret" not in reply
        ref = reply.rsplit("ref ", 1)[1].rstrip(")")
        assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)
        # after_accept raising does not hurt the 250 and is journaled; the personality's header is stored
        assert (await send(sim.port, ["fine@boom.test"])).startswith("250 2.0.0")
        [path] = sim.stored("boom.test")
        assert b"\r\nX-Boom: checked\r\n" in path.read_bytes()

    serve(tmp_path, body, boom)
    events = [e["event"] for e in journal(tmp_path)]
    assert "internal_error" in events and "after_accept_failed" in events


def test_counters_per_personality_and_total(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        await send(sim.port, ["a@accept.mailfate.test"])
        await send(sim.port, ["a@mailbox-full.mailfate.test"])
        await send(sim.port, ["a@nowhere.example"])
        counters = sim.counters()
        assert counters["total"] == {"accepted": 1, "deferred": 0, "rejected": 2, "dropped": 0}
        assert counters["personalities"]["mailbox-full"]["rejected"] == 1
        assert counters["personalities"]["accept"]["accepted"] == 1
        assert "nowhere.example" not in counters["domains"]

    serve(tmp_path, body, {"server": {"unknown_domains": "reject"}})


def _tls_context(tmp_path: Path) -> ssl.SSLContext:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=mx.mailfate.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_when_a_context_is_given(tmp_path: Path) -> None:
    context = _tls_context(tmp_path)

    async def body(sim: Any) -> None:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1",
            port=sim.port,
            local_hostname="out.app.example",
            timeout=10,
            validate_certs=False,
            start_tls=True,  # STARTTLS is required: connecting fails unless the server offers it
        )
        async with client:
            assert client.is_connected and client.get_transport_info("sslcontext") is not None
            await client.sendmail("a@app.example", ["x@accept.mailfate.test"], MSG)
        [path] = sim.stored("accept.mailfate.test")
        assert b" with ESMTPS id " in path.read_bytes()

    serve(tmp_path, body, tls_context=context)
    assert journal(tmp_path)[0]["tls"] is True


MARKED_CLOCK = FakeClock()


@pytest.mark.simulator(
    greylist_delay=60, clock=MARKED_CLOCK, overrides={"domains": {"fx.test": {"personalities": ["greylist"]}}}
)
def test_the_pytest_fixture_is_configured_by_its_marker(mailfate_simulator: Any, tmp_path: Path) -> None:
    first = asyncio.run(send(mailfate_simulator.port, ["a@fx.test"]))
    MARKED_CLOCK.advance(60)
    second = asyncio.run(send(mailfate_simulator.port, ["a@fx.test"]))
    assert first.startswith("451") and second.startswith("250"), (first, second)
    assert len(mailfate_simulator.stored("fx.test")) == 1
    assert mailfate_simulator.counters()["total"]["accepted"] == 1
    assert mailfate_simulator.reset_greylist() == 1
    assert (tmp_path / "simulator.jsonl").read_text().count('"transaction"') == 2
