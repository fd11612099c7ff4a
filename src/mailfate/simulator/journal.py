"""What the simulator keeps of every transaction: a JSON-lines journal, stored mail, counters.

- :class:`Journal` appends one JSON object per line (UTF-8) to a file, flushed per line.
- :class:`MailStore` writes accepted mail as ``<maildir>/<domain>/<queue_id>.eml`` (a temporary
  name, then a rename, so a reader never sees half a message), in batches on a writer thread.
- :class:`Counters` counts outcomes (``accepted``, ``deferred``, ``rejected``, ``dropped``) per
  recipient: per domain, per personality and in total.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mailfate.simulator.model import Reply, SessionInfo

__all__ = ["OUTCOMES", "Counters", "Journal", "MailStore", "outcome_of", "reply_json", "transaction_entry"]

log = logging.getLogger(__name__)
OUTCOMES = ("accepted", "deferred", "rejected", "dropped")
MAX_DOMAINS = 10_000
OTHER = "(other)"


def outcome_of(reply: Reply) -> str:
    if reply.drop:
        return "dropped"
    if reply.is_success:
        return "accepted"
    return "deferred" if reply.is_transient else "rejected"


def reply_json(reply: Reply, text: str) -> dict[str, Any]:
    return {"code": reply.code, "status": reply.status, "text": text, "drop": reply.drop}


def transaction_entry(
    info: SessionInfo,
    mail_from: str,
    rcpts: list[tuple[str, str | None, Reply, str, str]],
    data_reply: Reply | None,
    data_text: str | None,
    *,
    at: datetime,
) -> dict[str, Any]:
    """The journal line of one transaction; ``rcpts`` are (rcpt, domain, reply, wire text, personality).

    The outcome is the DATA reply's, else the RCPT replies' (``abandoned``: recipients were
    accepted but no DATA followed).
    """
    if data_reply is not None:
        outcome = outcome_of(data_reply)
    elif any(r[2].drop for r in rcpts):
        outcome = "dropped"
    elif any(r[2].is_transient for r in rcpts):
        outcome = "deferred"
    elif any(r[2].is_success for r in rcpts):
        outcome = "abandoned"
    else:
        outcome = "rejected"
    return {
        "event": "dropped" if outcome == "dropped" else "transaction",
        "at": at.astimezone(UTC).isoformat(),
        "session": info.session_id,
        "client_ip": info.client_ip,
        "client_port": info.client_port,
        "helo": info.helo,
        "tls": info.tls,
        "mail_from": mail_from,
        "rcpts": [
            {"rcpt": rcpt, "domain": domain, "reply": reply_json(reply, text), "personality": decider}
            for rcpt, domain, reply, text, decider in rcpts
        ],
        "data": reply_json(data_reply, data_text or "") if data_reply is not None else None,
        "outcome": outcome,
        "message_id": None,
        "size": None,
    }


class Journal:
    """Appends JSON lines to ``path`` (``None``: keeps nothing)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.failed = 0

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace") + b"\n"
        with self._lock:
            try:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the server's life
                self._file.write(line)
                self._file.flush()
            except OSError as exc:
                self.failed += 1
                log.error("journal %s: %s", self.path, exc)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class MailStore:
    """Accepted mail as ``.eml`` files, one folder per domain (``None``: stores nothing).

    :meth:`store` is what the server awaits before it answers 250: copies from every session
    are queued and one writer thread creates the files in batches (group commit), so creating
    a file — the dearest step of a small message — runs beside the event loop, not on it.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._folders: dict[str, str] = {}
        self._queue: list[tuple[str, str, bytes, asyncio.Future[str]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def store(self, domain: str, queue_id: str, content: bytes) -> str | None:
        """Write one accepted copy (queued with the other sessions' copies); its path."""
        if self.root is None:
            return None
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        self._queue.append((domain, queue_id, content, done))
        if self._writer is None:
            self._writer = loop.create_task(self._write_queue())
        return await done

    async def _write_queue(self) -> None:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="mailfate-maildir")
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                results = await loop.run_in_executor(self._pool, self._save_all, batch)
                for (*_, done), result in zip(batch, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, str):
                        done.set_result(result)
                    else:
                        done.set_exception(result)
        finally:
            self._writer = None
            for *_, done in self._queue:  # cancelled mid-batch (server stopping)
                if not done.done():
                    done.set_exception(OSError("the maildir writer stopped"))
            self._queue = []

    def _save_all(self, batch: list[tuple[str, str, bytes, asyncio.Future[str]]]) -> list[str | OSError]:
        results: list[str | OSError] = []
        for domain, queue_id, content, _ in batch:
            try:
                results.append(self.save(domain, queue_id, content))
            except OSError as exc:
                results.append(exc)
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def save(self, domain: str, queue_id: str, content: bytes) -> str:
        """Write one accepted copy now (blocking); its path."""
        assert self.root is not None
        folder = self._folders.get(domain)
        if folder is None:
            (self.root / domain).mkdir(parents=True, exist_ok=True)
            folder = self._folders[domain] = os.path.join(self.root, domain)
        path = os.path.join(folder, queue_id + ".eml")
        tmp = os.path.join(folder, "." + queue_id + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)  # a reader never sees half a message
        return path

    def stored(self, domain: str) -> list[Path]:
        if self.root is None:
            return []
        folder = self.root / domain
        if not folder.is_dir():
            return []
        files = [p for p in folder.iterdir() if p.suffix == ".eml"]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


class Counters:
    """Outcome counts per recipient: per domain, per personality, total."""

    def __init__(self) -> None:
        self.total = dict.fromkeys(OUTCOMES, 0)
        self.domains: dict[str, dict[str, int]] = {}
        self.domain_personalities: dict[str, tuple[str, ...]] = {}
        self.personalities: dict[str, dict[str, int]] = {}

    def add(
        self,
        domain: str | None,
        personalities: tuple[str, ...],
        deciders: tuple[str, ...],
        outcome: str,
        n: int = 1,
    ) -> None:
        self.total[outcome] = self.total.get(outcome, 0) + n
        if domain is not None:
            counts = self.domains.get(domain)
            if counts is None:
                if len(self.domains) >= MAX_DOMAINS:
                    domain, personalities = OTHER, ()
                counts = self.domains.setdefault(domain, dict.fromkeys(OUTCOMES, 0))
                self.domain_personalities[domain] = personalities
            counts[outcome] = counts.get(outcome, 0) + n
        for slug in deciders:
            per = self.personalities.setdefault(slug, dict.fromkeys(OUTCOMES, 0))
            per[outcome] = per.get(outcome, 0) + n

    def snapshot(self) -> dict[str, Any]:
        return {
            "total": dict(self.total),
            "domains": {
                d: {"personalities": list(self.domain_personalities.get(d, ())), "outcomes": dict(c)}
                for d, c in sorted(self.domains.items())
            },
            "personalities": {s: dict(c) for s, c in sorted(self.personalities.items())},
        }
