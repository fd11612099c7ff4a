"""The VERP inbound server with real SMTP clients: reports recorded, strangers refused, garbage survived."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosmtplib
import pytest

from mailfate.intake.smtp_inbound import InboundReport, InboundServer
from mailfate.model.verp import VerpCodec
from mailfate.simulator.dsnbuild import build_arf, build_autoreply, build_dsn
from mailfate.store import new_message_id

CODEC = VerpCodec(b"s" * 32, "bounces.app.example")
MID = new_message_id()
VERP = CODEC.encode(MID, 7)
ORIGINAL = (
    f"Return-Path: <{VERP}>\r\nFrom: no-reply@app.example\r\nTo: kim@naver.test\r\n"
    "Subject: code\r\nMessage-ID: <x1@app.example>\r\n\r\nYour code\r\n"
).encode()


def run(body: Callable[[InboundServer, list[list[InboundReport]]], Awaitable[None]], **kw: object) -> None:
    got: list[list[InboundReport]] = []

    async def sink(reports: list[InboundReport], raw: bytes) -> None:
        if b"FAIL-THE-SINK" in raw:
            raise RuntimeError("database down")
        got.append(reports)

    async def main() -> None:
        server = InboundServer(CODEC, sink, **kw)  # type: ignore[arg-type]
        await server.start()
        try:
            await body(server, got)
        finally:
            await server.stop()

    asyncio.run(main())


async def send(server: InboundServer, raw: bytes, rcpt: str = VERP) -> str:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, timeout=10)
    try:
        async with client:
            _, text = await client.sendmail("", [rcpt], raw)  # bounces have the null sender
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return " ".join(f"{r.code} {r.message}" for r in exc.recipients)
    except aiosmtplib.SMTPResponseException as exc:
        return f"{exc.code} {exc.message}"
    return f"250 {text}"


def test_dsn_arf_and_autoreply_become_reports_for_the_verp_recipient() -> None:
    async def body(server: InboundServer, got: list[list[InboundReport]]) -> None:
        dsn = build_dsn(ORIGINAL, reporting_mta="mx.naver.test", rcpt="kim@naver.test", envelope_sender=VERP)
        assert (await send(server, dsn)).startswith("250")
        delayed = build_dsn(
            ORIGINAL,
            reporting_mta="mx.naver.test",
            rcpt="kim@naver.test",
            action="delayed",
            status="4.7.1",
            diagnostic="smtp; 451 4.7.1 greylisted",
            envelope_sender=VERP,
        )
        assert (await send(server, delayed)).startswith("250")
        arf = build_arf(
            ORIGINAL, source_ip="192.0.2.1", original_rcpt="kim@naver.test", reporting_domain="naver.test"
        )
        assert (await send(server, arf)).startswith("250")
        ooto = build_autoreply(ORIGINAL, rcpt="kim@naver.test", sender=VERP)
        assert (await send(server, ooto)).startswith("250")
        kinds = [(r[0].kind, r[0].message_id, r[0].recipient_id) for r in got]
        assert kinds == [
            ("bounced", MID, 7),
            ("delayed", MID, 7),
            ("complained", MID, 7),
            ("autoreplied", MID, 7),
        ]
        assert got[0][0].reason == "userunknown" and got[0][0].hardbounce

    run(body)


def test_forged_or_foreign_addresses_are_refused_at_rcpt() -> None:
    async def body(server: InboundServer, got: list[list[InboundReport]]) -> None:
        dsn = build_dsn(ORIGINAL, reporting_mta="mx", rcpt="kim@naver.test")
        forged = VERP[:-25] + ("a" if VERP[-25] != "a" else "b") + VERP[-24:]
        for rcpt in (forged, "postmaster@bounces.app.example", "kim@naver.test"):
            assert (await send(server, dsn, rcpt)).startswith("550 5.1.1"), rcpt
        assert got == []

    run(body)


def test_not_a_report_is_kept_and_a_failing_sink_is_a_451(tmp_path: Path) -> None:
    async def body(server: InboundServer, got: list[list[InboundReport]]) -> None:
        assert (await send(server, b"Subject: hello\r\n\r\njust chatting\r\n")).startswith("250")
        assert len(list((tmp_path / "unmatched").iterdir())) == 1
        dsn = build_dsn(b"X-Test: FAIL-THE-SINK\r\n" + ORIGINAL, reporting_mta="mx", rcpt="kim@naver.test")
        assert (await send(server, dsn)).startswith("451 4.3.0")

    run(body, unmatched_dir=tmp_path / "unmatched")


@pytest.mark.parametrize(
    "junk",
    [b"\x00\xff\xfe\r\n", b"HELO\r\nMAIL FROM:<>\r\nRCPT TO:<x>\r\n" * 50, b"A" * 70000 + b"\r\n"],
)
def test_garbage_on_the_socket_does_not_kill_the_server(junk: bytes) -> None:
    async def body(server: InboundServer, got: list[list[InboundReport]]) -> None:
        def raw_session() -> None:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.recv(1000)
                sock.sendall(junk)
                with contextlib.suppress(OSError):
                    sock.recv(65536)

        await asyncio.to_thread(raw_session)
        dsn = build_dsn(ORIGINAL, reporting_mta="mx", rcpt="kim@naver.test")
        assert (await send(server, dsn)).startswith("250")

    run(body)
