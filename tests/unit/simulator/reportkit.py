"""Test kit for the late-report tests: a fake clock, a reply book from the packaged data, a sink
that records what personalities schedule, hand-built messages, and a collecting SMTP server."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailfate.model.reasons import Reason
from mailfate.simulator.model import (
    AcceptedMessage,
    OutgoingReport,
    RcptContext,
    Reply,
    Services,
    SessionInfo,
)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SENDER = "bounces+77@app.example"
MID = "<m1.signup@app.example>"


def original(to: str = "bob@late-bounce.mailfate.test", subject: str = "Your verification code") -> bytes:
    return (
        f"From: App <no-reply@app.example>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: {MID}\r\nDate: Sat, 28 Nov 2026 11:59:59 +0000\r\n\r\nYour code is 123456\r\n"
    ).encode()


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Book:
    """The packaged default reply book, with optional overrides by key."""

    def __init__(self, **overrides: Reply) -> None:
        data = resources.files("mailfate").joinpath("data", "simulator", "replies.toml").read_bytes()
        table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))["replies"]
        self.replies = {
            key: Reply(
                int(v["code"]),
                str(v.get("status", "")),
                str(v["text"]),
                Reason(v["reason"]) if v.get("reason") else None,
                drop=bool(v.get("drop", False)),
            )
            for key, v in table.items()
        }
        self.replies.update(overrides)

    def get(self, key: str) -> Reply:
        return self.replies[key]


class RecordingSink:
    def __init__(self) -> None:
        self.reports: list[OutgoingReport] = []

    def schedule(self, report: OutgoingReport) -> None:
        self.reports.append(report)


def services(clock: FakeClock, sink: RecordingSink | None = None) -> Services:
    return Services(clock=clock, reports=sink or RecordingSink(), hostname="mx.mailfate.test")


def session() -> SessionInfo:
    return SessionInfo("s1", "192.0.2.25", 40000, T0, helo="out.app.example")


def rcpt_context(rcpt: str, book: Book, clock: FakeClock, mail_from: str = SENDER) -> RcptContext:
    local, _, domain = rcpt.rpartition("@")
    return RcptContext(session(), mail_from, rcpt, local, domain, book, clock)


def accepted(rcpts: tuple[str, ...], domain: str, mail_from: str = SENDER) -> AcceptedMessage:
    return AcceptedMessage(session(), mail_from, rcpts, domain, original(to=rcpts[0]), "Q1", T0)


class Collector:
    """An aiosmtpd handler keeping every envelope; optionally refusing every recipient."""

    def __init__(self, rcpt_reply: str = "") -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply = rcpt_reply
        self.arrived = asyncio.Event()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.arrived.set()
        return "250 2.0.0 Ok: queued"


@asynccontextmanager
async def smtp_server(handler: Collector) -> AsyncIterator[str]:
    """An aiosmtpd server on 127.0.0.1, port 0, in the running loop; yields "host:port"."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
