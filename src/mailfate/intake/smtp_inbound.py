"""The inbound SMTP server for the VERP domain: DSNs, ARF complaints and auto-replies come back here.

It accepts RCPT only for addresses the :class:`~mailfate.model.verp.VerpCodec` recognizes
(550 5.1.1 for anything else: it never relays and never takes mail for other domains). A message
is parsed with the bounce parser; the recipient it concerns comes from the VERP address it was
sent to, not from the report's text (which a forger controls). The sink (the engine) is awaited
before the 250, so a 250 means the event is stored; if the sink fails the answer is 451 and the
reporting server tries again. Mail that is no report at all is answered 250 (a bounce must not
bounce) and kept in ``unmatched_dir`` when one is set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailfate.bounce import parse_bounce
from mailfate.errors import ParseError
from mailfate.model.verp import VerpCodec

__all__ = ["InboundReport", "InboundServer", "Sink"]

log = logging.getLogger(__name__)
_RANK = {"bounced": 5, "complained": 4, "delayed": 3, "autoreplied": 2, "delivered": 1}


@dataclass(frozen=True, slots=True)
class InboundReport:
    message_id: str
    recipient_id: int
    kind: str
    """bounced | delayed | complained | autoreplied | delivered"""
    reason: str
    hardbounce: bool
    status: str
    diagnostic: str
    remote_mta: str
    feedback_type: str
    at: datetime
    raw_size: int
    cause: str = ""
    cause_detail: str = ""
    evidence: str = ""
    """What decided the reason; a hard bounce suppresses only on strong evidence."""


Sink = Callable[[list[InboundReport], bytes], Awaitable[None]]


def _kind(record: Any) -> str:
    kind = str(record.kind)
    if kind == "complaint":
        return "complained"
    if kind == "autoreply":
        return "autoreplied"
    if kind == "delivered":
        return "delivered"
    return "delayed" if str(record.action).lower() == "delayed" else "bounced"


class _Handler:
    def __init__(self, server: InboundServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.server.codec.decode(address) is None:
            return f"550 5.1.1 <{address}>: no such VERP address"
        if len(envelope.rcpt_tos) >= 50:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else bytes(content)
        try:
            records = parse_bounce(raw)
        except (ParseError, ValueError, RecursionError) as exc:
            log.info("inbound: not a parsable report (%s)", exc)
            records = []
        now = datetime.now(UTC)
        reports: list[InboundReport] = []
        if records:
            best = max(records, key=lambda r: _RANK.get(_kind(r), 0))
            for rcpt in envelope.rcpt_tos:
                decoded = self.server.codec.decode(rcpt)
                if decoded is None:
                    continue
                reports.append(
                    InboundReport(
                        decoded[0],
                        decoded[1],
                        _kind(best),
                        str(best.reason),
                        bool(best.hardbounce),
                        best.status,
                        best.diagnostic[:2000],
                        best.remote_mta,
                        best.feedback_type,
                        now,
                        len(raw),
                        cause=str(best.cause),
                        cause_detail=best.cause_detail,
                        evidence=str(best.evidence),
                    )
                )
        if not reports:
            self.server.keep_unmatched(raw)
            return "250 2.0.0 OK: not a delivery report; kept"
        try:
            await self.server.sink(reports, raw)
        except Exception:
            log.exception("inbound: storing %d report(s) failed", len(reports))
            return "451 4.3.0 Could not store the report now; try again later"
        self.server.received += len(reports)
        return "250 2.0.0 OK: report recorded"


class InboundServer:
    """``await start()`` (``port`` 0 picks a free one), ``await stop()``."""

    def __init__(
        self,
        codec: VerpCodec,
        sink: Sink,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_message_size: int = 10 * 1024 * 1024,
        unmatched_dir: Path | None = None,
        hostname: str = "mailfate.localhost",
    ) -> None:
        self.codec = codec
        self.sink = sink
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.unmatched_dir = unmatched_dir
        self.hostname = hostname
        self.received = 0
        self._server: asyncio.Server | None = None
        self._handler = _Handler(self)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self._handler,
                data_size_limit=self.max_message_size,
                enable_SMTPUTF8=True,
                hostname=self.hostname,
                ident="mailfate inbound",
            ),
            self.host,
            self.port,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def keep_unmatched(self, raw: bytes) -> None:
        if self.unmatched_dir is None:
            return
        self.unmatched_dir.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.urandom(4).hex()}.eml"
        (self.unmatched_dir / name).write_bytes(raw)
