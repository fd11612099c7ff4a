"""The inbound SMTP server for the VERP domain: DSNs, ARF complaints and auto-replies come back here.

It accepts RCPT only for addresses the :class:`~mailfate.model.verp.VerpCodec` recognizes
(550 5.1.1 for anything else: it never relays and never takes mail for other domains). A message
is parsed with the bounce parser; the recipient it concerns comes from the VERP address it was
sent to, not from the report's text (which a forger controls). The sink (the engine, which hands
the reports and the raw message to :func:`mailfate.tracking.reports.record_reports`) is awaited
before the 250, so a 250 means the raw report and its events are stored; if the sink fails the
answer is 451 and the reporting server tries again. Mail that is no report at all is answered 250
(a bounce must not bounce) and kept in ``unmatched_dir`` (``<data_dir>/unmatched/`` as the worker
wires it) — written before the 250 too.

While it runs, every ``prune_every`` seconds, what is older than ``keep_days`` goes: the files in
``unmatched_dir`` and, through ``prune``, the stored raw reports (0 days: everything is kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailfate.bounce import parse_bounce
from mailfate.errors import ParseError
from mailfate.model.verp import VerpCodec
from mailfate.tracking.reports import InboundReport, event_kind, report_of

__all__ = ["InboundReport", "InboundServer", "Prune", "Sink"]

log = logging.getLogger(__name__)
_RANK = {"bounced": 5, "complained": 4, "delayed": 3, "autoreplied": 2, "delivered": 1}


Sink = Callable[[list[InboundReport], bytes], Awaitable[None]]
Prune = Callable[[datetime], Awaitable[object]]
"""Drop the stored raw reports received before the given time."""


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
            best = max(records, key=lambda r: _RANK.get(event_kind(r), 0))
            for rcpt in envelope.rcpt_tos:
                decoded = self.server.codec.decode(rcpt)
                if decoded is not None:
                    reports.append(
                        report_of(best, message_id=decoded[0], recipient_id=decoded[1], at=now, size=len(raw))
                    )
        if not reports:
            try:
                await asyncio.to_thread(self.server.keep_unmatched, raw)
            except OSError:
                log.exception("inbound: keeping a mail that is no report failed")
                return "451 4.3.0 Could not keep the message now; try again later"
            kept = "kept" if self.server.unmatched_dir is not None else "not kept"
            return f"250 2.0.0 OK: not a delivery report; {kept}"
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
        keep_days: float = 0.0,
        prune: Prune | None = None,
        prune_every: float = 3600.0,
    ) -> None:
        self.codec = codec
        self.sink = sink
        self.host, self.port = host, port
        self.max_message_size = max_message_size
        self.unmatched_dir = unmatched_dir
        self.hostname = hostname
        self.keep_days = keep_days
        self.prune = prune
        self.prune_every = prune_every
        self.received = 0
        self.unmatched = 0
        self._server: asyncio.Server | None = None
        self._pruning: asyncio.Task[None] | None = None
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
        if self.keep_days > 0:
            self._pruning = asyncio.create_task(self._prune_forever())

    async def stop(self) -> None:
        if self._pruning is not None:
            self._pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruning
            self._pruning = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def keep_unmatched(self, raw: bytes) -> None:
        """Write a mail that is no report to ``unmatched_dir`` (when set), on disk when this returns."""
        self.unmatched += 1
        if self.unmatched_dir is None:
            return
        self.unmatched_dir.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.urandom(4).hex()}.eml"
        fd = os.open(self.unmatched_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())

    async def prune_now(self) -> None:
        """Drop what is older than ``keep_days``: the kept unmatched mails, the stored raw reports."""
        before = datetime.now(UTC) - timedelta(days=self.keep_days)
        gone = await asyncio.to_thread(self._prune_unmatched, before.timestamp())
        if self.prune is not None:
            await self.prune(before)
        if gone:
            log.info("inbound: %d unmatched mail(s) older than %g days removed", gone, self.keep_days)

    def _prune_unmatched(self, before: float) -> int:
        if self.unmatched_dir is None or not self.unmatched_dir.is_dir():
            return 0
        gone = 0
        for entry in os.scandir(self.unmatched_dir):
            if entry.name.endswith(".eml") and entry.is_file() and entry.stat().st_mtime < before:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    gone += 1
        return gone

    async def _prune_forever(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.prune_now()
            except Exception:  # loop boundary: try again at the next period
                log.exception("inbound: pruning the kept reports failed")
            await asyncio.sleep(max(0.0, self.prune_every - (time.monotonic() - started)))
