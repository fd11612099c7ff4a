"""Nothing sent to the inbound port is dropped: a report is stored raw with the events it made
(before the 250), a mail that is no report is kept in ``<data_dir>/unmatched/``, and both go after
``keep_reports_days``. Over the real inbound server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib

from mailfate.config import load_settings
from mailfate.delivery.engine import Engine
from mailfate.delivery.routing import Router
from mailfate.intake.smtp_inbound import InboundServer
from mailfate.model import AttemptResult, Envelope, NewMessage
from mailfate.model.verp import VerpCodec
from mailfate.runtime import WorkerService
from mailfate.simulator.dsnbuild import build_dsn
from mailfate.store import Store, new_message_id

CODEC = VerpCodec(b"s" * 32, "bounces.app.example")
NOW = datetime.now(UTC)
NOT_A_REPORT = b"From: someone@example.org\r\nTo: x\r\nSubject: hello\r\n\r\nJust a note, no report.\r\n"


class _NoTransport:
    name = "none"

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        raise AssertionError("nothing is delivered in this test")

    async def aclose(self) -> None:
        return None


async def send(port: int, raw: bytes, rcpt: str) -> str:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    async with client:
        _, text = await client.sendmail("", [rcpt], raw)
    return f"250 {text}"


def test_a_dsn_is_stored_raw_with_its_events_before_the_250(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    mid = store.queue.submit(NewMessage("no-reply@app.example", ("kim@naver.test",), b"x"), NOW).message_id
    rid = store.messages.find_recipient(mid, "kim@naver.test")
    assert rid is not None
    verp = CODEC.encode(mid, rid)
    original = f"Return-Path: <{verp}>\r\nFrom: no-reply@app.example\r\nTo: kim@naver.test\r\n\r\nhi\r\n"
    dsn = build_dsn(
        original.encode(), reporting_mta="mx.naver.test", rcpt="kim@naver.test", envelope_sender=verp
    )
    engine = Engine(store, Router([], _NoTransport()), CODEC)

    async def main() -> None:
        server = InboundServer(CODEC, engine.on_inbound)
        await server.start()
        try:
            reply = await send(server.port, dsn, verp)
        finally:
            await server.stop()
        assert reply.startswith("250") and "report recorded" in reply
        # read right after the 250, from another connection: the report and its events are durable
        other = Store(store.url)
        try:
            [bounced] = [e for e in other.messages.events_since(mid, 0) if e.type == "bounced"]
            kept = other.messages.report(int(bounced.data["report_id"]))
        finally:
            other.close()
        assert kept is not None and (kept.kind, kept.message_id) == ("dsn", mid)
        assert b"Content-Type: multipart/report" in kept.raw and kept.size == len(kept.raw)
        assert b"mx.naver.test" in kept.raw

    try:
        asyncio.run(main())
    finally:
        asyncio.run(engine.aclose())
        store.close()


def test_a_mail_that_is_no_report_is_kept_in_the_data_directory_by_default(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path / "d", inbound_port=0)
    assert settings.unmatched_dir == tmp_path / "d" / "unmatched"
    service = WorkerService(settings, simulator_dir=tmp_path / "sim")

    async def main() -> None:
        await service.start()
        try:
            assert service.inbound is not None
            verp = VerpCodec(settings.verp_key(), settings.verp_domain).encode(new_message_id(), 1)
            reply = await send(service.inbound.port, NOT_A_REPORT, verp)
        finally:
            await service.stop()
        assert reply.startswith("250") and "kept" in reply

    asyncio.run(main())
    [kept] = list((tmp_path / "d" / "unmatched").glob("*.eml"))
    assert kept.read_bytes().replace(b"\r\n", b"\n") == NOT_A_REPORT.replace(b"\r\n", b"\n")


def test_a_report_naming_no_recipient_we_sent_is_stored_raw_but_adds_no_event(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    unknown = new_message_id()
    verp = CODEC.encode(unknown, 5)  # a well-signed VERP address of a message this store never had
    dsn = build_dsn(
        b"Subject: x\r\n\r\nhi\r\n", reporting_mta="mx", rcpt="kim@naver.test", envelope_sender=verp
    )
    engine = Engine(store, Router([], _NoTransport()), CODEC)

    async def main() -> None:
        server = InboundServer(CODEC, engine.on_inbound, unmatched_dir=tmp_path / "unmatched")
        await server.start()
        try:
            assert (await send(server.port, dsn, verp)).startswith("250")
        finally:
            await server.stop()

    try:
        asyncio.run(main())
        kept = store.messages.report(1)
        assert kept is not None and kept.message_id == unknown
        assert not (tmp_path / "unmatched").exists()
    finally:
        asyncio.run(engine.aclose())
        store.close()


def test_what_is_older_than_keep_days_is_pruned_while_the_server_runs(tmp_path: Path) -> None:
    folder = tmp_path / "unmatched"
    folder.mkdir()
    old, new = folder / "old.eml", folder / "new.eml"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    asked: list[datetime] = []

    async def prune(before: datetime) -> int:
        asked.append(before)
        return 0

    async def sink(reports: object, raw: bytes) -> None:
        return None

    async def main() -> None:
        server = InboundServer(CODEC, sink, unmatched_dir=folder, keep_days=2, prune=prune, prune_every=3600)
        await server.start()
        try:
            for _ in range(200):
                if asked:
                    break
                await asyncio.sleep(0.01)
        finally:
            await server.stop()

    asyncio.run(main())
    assert [p.name for p in folder.iterdir()] == ["new.eml"]
    assert len(asked) == 1
    assert abs(asked[0] - (datetime.now(UTC) - timedelta(days=2))) < timedelta(minutes=1)


def test_without_a_folder_the_reply_does_not_claim_the_mail_was_kept() -> None:
    async def sink(reports: object, raw: bytes) -> None:
        raise AssertionError("no report here")

    async def main() -> str:
        server = InboundServer(CODEC, sink)
        await server.start()
        try:
            return await send(server.port, NOT_A_REPORT, CODEC.encode(new_message_id(), 1))
        finally:
            await server.stop()

    reply = asyncio.run(main())
    assert reply.startswith("250") and reply.endswith("not kept")
