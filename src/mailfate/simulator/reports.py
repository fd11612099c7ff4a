"""Sending the simulator's late reports: DSNs, ARF complaints and auto-replies, when they are due.

Personalities build a report (:mod:`mailfate.simulator.dsnbuild`) and hand it to the
:class:`SmtpReportSink` with ``schedule``; the sink keeps it until its ``not_before`` time, then
sends it by SMTP to the configured target (``[reports] smtp = "host:port"``; MAIL FROM ``<>`` for
DSNs, ARF reports and auto-replies, RCPT TO the original envelope sender). With a ``store_dir``
every report is also written there as ``<kind>-<n>.eml`` when it is scheduled, so nothing is lost
when the server stops before a report is due.

Time comes from the injected clock: ``send_due()`` sends what is due *now*, so a test advances
its fake clock and calls it; ``start()`` runs a background task calling it every 0.2 s of real
time. A failed send is retried with exponential backoff (``retry_after`` doubled per attempt, at
most ``max_attempts``); a permanent 5xx refusal is not retried. Every outcome is journaled; no
SMTP or network error ever leaves this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib

from mailfate.errors import ConfigError
from mailfate.simulator.dsnbuild import build_arf, build_autoreply, build_dsn
from mailfate.simulator.model import Clock, OutgoingReport

__all__ = [
    "DEFAULT_DELAY",
    "SmtpReportSink",
    "build_arf",
    "build_autoreply",
    "build_dsn",
    "delay_option",
    "parse_target",
]

log = logging.getLogger(__name__)

Journal = Callable[[dict[str, Any]], None]
_TARGET = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s\[\]]+)):(?P<port>\d{1,5})$")
_STORED = re.compile(r"^[a-z0-9-]+-(\d+)\.eml$")
_SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError)
DEFAULT_DELAY = 30.0
"""Seconds between acceptance and a late report when neither the personality nor [reports] says."""


def delay_option(options: Mapping[str, Any], personality: str) -> timedelta:
    """The ``delay`` option of a reporting personality (seconds, default :data:`DEFAULT_DELAY`)."""
    value = options.get("delay", DEFAULT_DELAY)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 30 * 86400:
        raise ConfigError(
            f"{personality}: delay = {value!r} is not a number of seconds between 0 and 2592000; "
            "write e.g. delay = 30"
        )
    return timedelta(seconds=float(value))


def parse_target(target: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"[v6]:port"``) as (host, port); ``ConfigError`` otherwise."""
    m = _TARGET.match(target.strip())
    port = int(m.group("port")) if m else 0
    if m is None or not 0 < port < 65536:
        raise ConfigError(
            f"reports.smtp = {target!r} is not host:port; "
            'write e.g. smtp = "127.0.0.1:2525" (or "" to only store reports)'
        )
    return m.group("v6") or m.group("host"), port


@dataclass(slots=True)
class _Pending:
    report: OutgoingReport
    number: int
    due: datetime
    path: Path | None
    attempts: int = 0


class SmtpReportSink:
    """A :class:`~mailfate.simulator.model.ReportSink` that delivers reports by SMTP when due."""

    def __init__(
        self,
        *,
        target: str | None,
        store_dir: Path | None,
        clock: Clock,
        journal: Journal | None = None,
        hostname: str = "mx.mailfate.test",
        max_attempts: int = 5,
        retry_after: timedelta = timedelta(seconds=30),
        timeout: float = 30.0,
        interval: float = 0.2,
    ) -> None:
        self.target = parse_target(target) if target else None
        self.store_dir = store_dir
        self.clock = clock
        self.hostname = hostname
        self.max_attempts = max(1, max_attempts)
        self.retry_after = retry_after
        self.timeout = timeout
        self.interval = interval
        self._journal = journal
        self._queue: list[_Pending] = []
        self._number = self._last_number()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    # -- the ReportSink protocol ---------------------------------------------------------------
    def schedule(self, report: OutgoingReport) -> None:
        """Keep ``report`` until ``report.not_before``; write it to the store now when there is one."""
        self._number += 1
        kind = re.sub(r"[^a-z0-9-]", "", report.kind.lower()) or "report"
        path = self._store(f"{kind}-{self._number}.eml", report.content)
        self._queue.append(_Pending(report, self._number, report.not_before, path))
        self._note("report_scheduled", report, path=str(path) if path else None)

    def pending(self) -> int:
        """How many reports wait to be sent (not yet due, or due for a retry)."""
        return len(self._queue)

    def counters(self) -> dict[str, int]:
        """JSON-able counts for status pages: reports pending, sent (or stored), given up."""
        return {"pending": len(self._queue), "sent": self.sent, "failed": self.failed}

    # -- sending -------------------------------------------------------------------------------
    async def send_due(self, now: datetime | None = None) -> int:
        """Send every report due at ``now`` (the clock's now by default); the number sent.

        Without a target a due report is only stored, and counts as sent.
        """
        async with self._lock:
            moment = now if now is not None else self.clock.now()
            due = sorted((p for p in self._queue if p.due <= moment), key=lambda p: (p.due, p.number))
            if not due:
                return 0
            results = await asyncio.gather(*(self._send(p, moment) for p in due))
            return sum(results)

    async def _send(self, item: _Pending, now: datetime) -> int:
        report = item.report
        if not report.rcpt:
            self._drop(item)
            self._note("report_dropped", report, error="no recipient (the original had a null sender)")
            return 0
        if self.target is None:
            self._drop(item)
            self.sent += 1
            self._note("report_stored", report, path=str(item.path) if item.path else None)
            return 1
        host, port = self.target
        item.attempts += 1
        try:
            client = aiosmtplib.SMTP(
                hostname=host, port=port, local_hostname=self.hostname, timeout=self.timeout, start_tls=False
            )
            async with client:
                # sendmail, not aiosmtplib.send: send() refuses the null sender <> with raw bytes
                await client.sendmail(report.mail_from, [report.rcpt], report.content)
        except _SEND_ERRORS as exc:
            return self._failed(item, now, exc)
        self._drop(item)
        self.sent += 1
        self._note("report_sent", report, attempt=item.attempts, target=f"{host}:{port}")
        return 1

    def _failed(self, item: _Pending, now: datetime, exc: Exception) -> int:
        error = f"{type(exc).__name__}: {exc}"
        permanent = _permanent(exc)
        if permanent or item.attempts >= self.max_attempts:
            self._drop(item)
            self.failed += 1
            log.warning("report %s to %s given up: %s", item.report.kind, item.report.rcpt, error)
            self._note("report_failed", item.report, attempt=item.attempts, error=error, final=True)
            return 0
        item.due = now + self.retry_after * (2 ** (item.attempts - 1))
        log.info("report %s to %s deferred: %s", item.report.kind, item.report.rcpt, error)
        self._note(
            "report_deferred",
            item.report,
            attempt=item.attempts,
            error=error,
            retry_at=item.due.isoformat(),
            final=False,
        )
        return 0

    def _drop(self, item: _Pending) -> None:
        with contextlib.suppress(ValueError):
            self._queue.remove(item)

    # -- background task -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the background task that sends due reports every ``interval`` seconds."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="mailfate-report-sink")

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # the loop must survive a bug; it is logged
                log.exception("sending due reports failed")
            await asyncio.sleep(self.interval)

    async def aclose(self) -> None:
        """Stop the background task; reports not sent stay in ``store_dir`` when there is one."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- store and journal ---------------------------------------------------------------------
    def _last_number(self) -> int:
        if self.store_dir is None or not self.store_dir.is_dir():
            return 0
        found = [int(m.group(1)) for p in self.store_dir.iterdir() if (m := _STORED.match(p.name))]
        return max(found, default=0)

    def _store(self, name: str, content: bytes) -> Path | None:
        if self.store_dir is None:
            return None
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            path = self.store_dir / name
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_bytes(content)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot store report %s: %s", name, exc)
            self._write_journal({"event": "report_store_failed", "file": name, "error": str(exc)})
            return None
        return path

    def _note(self, event: str, report: OutgoingReport, **extra: Any) -> None:
        entry: dict[str, Any] = {
            "event": event,
            "at": self.clock.now().isoformat(),
            "kind": report.kind,
            "mail_from": report.mail_from,
            "rcpt": report.rcpt,
            "about": report.about,
            "not_before": report.not_before.isoformat(),
            "size": len(report.content),
        }
        entry.update({k: v for k, v in extra.items() if v is not None})
        self._write_journal(entry)

    def _write_journal(self, entry: dict[str, Any]) -> None:
        if self._journal is None:
            return
        try:
            self._journal(entry)
        except Exception:  # a journal failure must not stop reports
            log.exception("report journal failed")


def _permanent(exc: Exception) -> bool:
    """A 5xx refusal of the report itself: retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500
