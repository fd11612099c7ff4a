"""SmtpReportSink: late reports leave when due, by SMTP, to a real aiosmtpd server on 127.0.0.1.

Time is a fake clock: a report is not sent before its ``not_before``; advancing the clock and
calling ``send_due()`` sends it. A target that refuses connections gets retries with backoff, each
journaled, and never an exception into the caller.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mailfate.bounce.api import parse_bounce
from mailfate.errors import ConfigError
from mailfate.model.reasons import Kind
from mailfate.simulator.dsnbuild import build_dsn
from mailfate.simulator.model import OutgoingReport
from mailfate.simulator.reports import SmtpReportSink, parse_target
from tests.unit.simulator.reportkit import SENDER, T0, Collector, FakeClock, smtp_server

ORIGINAL = b"From: a@app.example\r\nMessage-ID: <m1@app.example>\r\nSubject: hi\r\n\r\nbody\r\n"


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def dsn_report(delay: float = 30, rcpt: str = SENDER) -> OutgoingReport:
    content = build_dsn(
        ORIGINAL, reporting_mta="mx.mailfate.test", rcpt="bob@late.test", envelope_sender=SENDER
    )
    return OutgoingReport(
        kind="dsn",
        mail_from="",
        rcpt=rcpt,
        content=content,
        not_before=T0 + timedelta(seconds=delay),
        about="bob@late.test",
    )


def test_a_report_is_sent_when_due_with_the_null_sender_to_the_original_sender(tmp_path: Path) -> None:
    async def main() -> None:
        handler = Collector()
        clock = FakeClock()
        journal: list[dict[str, Any]] = []
        async with smtp_server(handler) as target:
            sink = SmtpReportSink(target=target, store_dir=tmp_path, clock=clock, journal=journal.append)
            report = dsn_report()
            sink.schedule(report)
            assert await sink.send_due() == 0
            assert handler.envelopes == [] and sink.pending() == 1
            clock.advance(29)
            assert await sink.send_due() == 0
            clock.advance(1)
            assert await sink.send_due() == 1
            assert sink.pending() == 0
            assert await sink.send_due() == 0, "sent once only"
            await sink.aclose()
        (env,) = handler.envelopes
        assert env.mail_from == "<>"
        assert env.rcpt_tos == [SENDER]
        assert env.original_content == report.content
        (record,) = parse_bounce(env.original_content or b"")
        assert record.kind == Kind.HARD and record.original_message_id == "<m1@app.example>"
        assert [e["event"] for e in journal] == ["report_scheduled", "report_sent"]
        assert journal[1]["rcpt"] == SENDER and journal[1]["about"] == "bob@late.test"
        assert (tmp_path / "dsn-1.eml").read_bytes() == report.content

    asyncio.run(main())


def test_send_due_takes_an_explicit_now() -> None:
    async def main() -> None:
        handler = Collector()
        async with smtp_server(handler) as target:
            sink = SmtpReportSink(target=target, store_dir=None, clock=FakeClock())
            sink.schedule(dsn_report(delay=10))
            sink.schedule(dsn_report(delay=100))
            assert await sink.send_due(T0 + timedelta(seconds=50)) == 1
            assert sink.pending() == 1
        assert len(handler.envelopes) == 1

    asyncio.run(main())


def test_a_refusing_target_is_retried_with_backoff_then_given_up() -> None:
    async def main() -> None:
        clock = FakeClock()
        journal: list[dict[str, Any]] = []
        sink = SmtpReportSink(
            target=closed_port(),
            store_dir=None,
            clock=clock,
            journal=journal.append,
            max_attempts=3,
            retry_after=timedelta(seconds=60),
            timeout=5,
        )
        sink.schedule(dsn_report(delay=0))
        assert await sink.send_due() == 0
        deferred = [e for e in journal if e["event"] == "report_deferred"]
        assert len(deferred) == 1 and deferred[0]["attempt"] == 1
        assert "error" in deferred[0] and sink.pending() == 1
        clock.advance(59)
        await sink.send_due()
        assert len([e for e in journal if e["event"] == "report_deferred"]) == 1, "not before the backoff"
        clock.advance(1)
        await sink.send_due()
        second = [e for e in journal if e["event"] == "report_deferred"][-1]
        assert second["attempt"] == 2
        assert second["retry_at"] == (clock.now() + timedelta(seconds=120)).isoformat(), "backoff doubles"
        clock.advance(120)
        assert await sink.send_due() == 0
        assert sink.pending() == 0
        assert journal[-1]["event"] == "report_failed" and journal[-1]["final"] is True
        assert sink.counters() == {"pending": 0, "sent": 0, "failed": 1}

    asyncio.run(main())


def test_a_permanent_refusal_is_not_retried() -> None:
    async def main() -> None:
        handler = Collector(rcpt_reply="550 5.1.1 no such user")
        journal: list[dict[str, Any]] = []
        async with smtp_server(handler) as target:
            sink = SmtpReportSink(target=target, store_dir=None, clock=FakeClock(), journal=journal.append)
            sink.schedule(dsn_report(delay=0))
            assert await sink.send_due() == 0
        assert sink.pending() == 0
        assert journal[-1]["event"] == "report_failed" and journal[-1]["attempt"] == 1
        assert "550" in journal[-1]["error"]

    asyncio.run(main())


def test_the_background_task_sends_due_reports() -> None:
    async def main() -> None:
        handler = Collector()
        async with smtp_server(handler) as target:
            sink = SmtpReportSink(target=target, store_dir=None, clock=FakeClock(), interval=0.01)
            await sink.start()
            sink.schedule(dsn_report(delay=0))
            await asyncio.wait_for(handler.arrived.wait(), timeout=10)
            await sink.aclose()
            await sink.aclose()  # twice is harmless
        assert len(handler.envelopes) == 1

    asyncio.run(main())


def test_unsent_reports_stay_stored_and_numbers_continue(tmp_path: Path) -> None:
    async def main() -> None:
        sink = SmtpReportSink(target=closed_port(), store_dir=tmp_path, clock=FakeClock())
        await sink.start()
        sink.schedule(dsn_report(delay=3600))
        await sink.aclose()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dsn-1.eml"]
        again = SmtpReportSink(target=None, store_dir=tmp_path, clock=FakeClock())
        again.schedule(dsn_report(delay=0))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dsn-1.eml", "dsn-2.eml"]

    asyncio.run(main())


def test_without_a_target_due_reports_are_only_stored(tmp_path: Path) -> None:
    async def main() -> None:
        journal: list[dict[str, Any]] = []
        sink = SmtpReportSink(target=None, store_dir=tmp_path, clock=FakeClock(), journal=journal.append)
        sink.schedule(dsn_report(delay=0))
        assert await sink.send_due() == 1
        assert sink.pending() == 0
        assert journal[-1]["event"] == "report_stored"
        assert journal[-1]["path"] == str(tmp_path / "dsn-1.eml")

    asyncio.run(main())


def test_a_report_without_a_recipient_is_dropped_and_journaled() -> None:
    async def main() -> None:
        journal: list[dict[str, Any]] = []
        sink = SmtpReportSink(target=closed_port(), store_dir=None, clock=FakeClock(), journal=journal.append)
        sink.schedule(dsn_report(delay=0, rcpt=""))
        assert await sink.send_due() == 0
        assert sink.pending() == 0 and journal[-1]["event"] == "report_dropped"

    asyncio.run(main())


def test_a_failing_journal_does_not_stop_reports() -> None:
    def broken(entry: dict[str, Any]) -> None:
        raise RuntimeError("disk full")

    async def main() -> None:
        sink = SmtpReportSink(target=None, store_dir=None, clock=FakeClock(), journal=broken)
        sink.schedule(dsn_report(delay=0))
        assert await sink.send_due() == 1

    asyncio.run(main())


@pytest.mark.parametrize(
    ("target", "expected"),
    [("127.0.0.1:2525", ("127.0.0.1", 2525)), ("[::1]:25", ("::1", 25)), ("mx.test:587", ("mx.test", 587))],
)
def test_parse_target(target: str, expected: tuple[str, int]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize("target", ["127.0.0.1", "host:0", "host:70000", ":25", "a b:25", "::1:25"])
def test_a_bad_target_is_a_config_error_with_a_hint(target: str) -> None:
    with pytest.raises(ConfigError, match="host:port"):
        SmtpReportSink(target=target, store_dir=None, clock=FakeClock())
