"""The simulator's inbox: every accepted message indexed, every attempt remembered.

:class:`Inbox` keeps, in memory and bounded:

- the accepted messages (one per stored copy: a transaction to two domains is two messages),
  newest last, at most ``max_messages`` (the oldest are pruned). Each :class:`StoredMessage` has
  an id (21 letters and digits: the queue id and a tag of the domain, so the same maildir file
  gets the same id after a restart), its read flag, the envelope and the SMTP transcript of
  its transaction (:class:`TranscriptLine`). Its body stays in the maildir file (in memory when
  there is no maildir); the summary (:class:`~mailfate.simulator.mime.Summary`) is parsed on
  first use, or at once while someone listens for events.
- the attempts (:class:`Attempt`): one per recipient per transaction, accepted or not, at most
  ``max_attempts`` (a ring).

The SMTP server calls :meth:`Inbox.add` and :meth:`Inbox.record` on the event loop; readers
(the HTTP routes, the web inbox, ``wait``) may run on any thread: a lock guards the index.
Listeners get :class:`InboxEvent` values on an ``asyncio.Queue`` (:meth:`Inbox.subscribe`).
"""

from __future__ import annotations

import asyncio
import builtins
import collections
import itertools
import operator
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailfate.simulator.mime import Detail, Part, Summary, parse_detail, parse_summary, part_bytes
from mailfate.simulator.query import Query, parse_query
from mailfate.simulator.records import Attempt, TranscriptLine, message_id_for

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_MESSAGES",
    "Attempt",
    "Inbox",
    "InboxEvent",
    "Page",
    "StoredMessage",
    "TranscriptLine",
    "message_id_for",
]

DEFAULT_MAX_MESSAGES = 10_000
DEFAULT_MAX_ATTEMPTS = 100_000
_READ = operator.attrgetter("read")


@dataclass(slots=True)
class StoredMessage:
    """One accepted copy in the inbox."""

    id: str
    created: datetime
    domain: str
    queue_id: str
    size: int
    mail_from: str
    rcpts: tuple[str, ...]
    path: str | None = None
    """The maildir file (``None``: no maildir; the bytes are kept in ``content``)."""
    content: bytes | None = None
    read: bool = False
    transcript: tuple[TranscriptLine, ...] = ()
    summary_cache: Summary | None = field(default=None, repr=False)
    rcpts_lower: tuple[str, ...] = ()

    def raw(self) -> bytes:
        """The stored bytes (``OSError`` when the maildir file has gone)."""
        if self.content is not None:
            return self.content
        assert self.path is not None
        with open(self.path, "rb") as f:
            return f.read()

    def summary(self) -> Summary:
        """The parsed summary (parsed once, then cached)."""
        if self.summary_cache is None:
            try:
                data = self.raw()
            except OSError:
                data = b""
            self.summary_cache = parse_summary(data, self.rcpts)
        return self.summary_cache

    def detail(self) -> Detail:
        """The whole message, parsed now (``OSError`` when the file has gone)."""
        return parse_detail(self.raw(), self.rcpts)

    def part(self, part_id: str) -> tuple[Part, bytes] | None:
        return part_bytes(self.raw(), part_id)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list or a search, newest first (Mailpit's list fields)."""

    messages: list[StoredMessage]
    total: int
    """Messages in the inbox."""
    unread: int
    matched: int
    """Messages matching (the whole inbox for a list)."""
    matched_unread: int
    start: int


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """``type`` is Mailpit's: ``new`` (data: the message), ``update`` ({"ID", "Read"}), ``delete``
    ({"ID"}), ``truncate`` (everything deleted), ``prune`` (oldest dropped: {"IDs"})."""

    type: str
    message: StoredMessage | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Inbox:
    """Accepted messages and attempts of one simulator run (see the module docstring)."""

    def __init__(
        self, max_messages: int = DEFAULT_MAX_MESSAGES, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> None:
        self.max_messages = max_messages
        self.max_attempts = max_attempts
        self._messages: dict[str, StoredMessage] = {}
        """Oldest first (insertion order); a plain dict iterates backwards faster than an OrderedDict."""
        self._pending: collections.deque[StoredMessage] = collections.deque()
        self._unread = 0
        self._attempts: collections.deque[Attempt] = collections.deque()
        self._by_rcpt: dict[str, collections.deque[Attempt]] = {}
        self._lock = threading.RLock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[InboxEvent]]] = []
        self._changed = threading.Condition(self._lock)
        self.version = 0
        """Bumped on every change (``wait`` polls it)."""
        self.accepted = 0
        self.accepted_bytes = 0
        self.deleted = 0

    # -- writing (the SMTP server) ---------------------------------------------------------------
    def add(
        self,
        domain: str,
        queue_id: str,
        content: bytes,
        *,
        mail_from: str,
        rcpts: tuple[str, ...],
        created: datetime,
        path: str | None,
        transcript: tuple[TranscriptLine, ...] = (),
    ) -> StoredMessage:
        """Index one accepted copy; prunes the oldest beyond ``max_messages``; announces it."""
        msg = StoredMessage(
            message_id_for(domain, queue_id), created, domain, queue_id, len(content), mail_from, rcpts,
            path, None if path else content, False, transcript, None, tuple(r.lower() for r in rcpts),
        )  # fmt: skip
        pruned: list[str] = []
        with self._lock:
            old = self._messages.pop(msg.id, None)
            if old is not None and not old.read:
                self._unread -= 1
            self._messages[msg.id] = msg
            self._unread += 1
            self.accepted += 1
            self.accepted_bytes += msg.size
            while len(self._messages) > self.max_messages:
                gone = self._messages.pop(next(iter(self._messages)))
                self._unread -= not gone.read
                pruned.append(gone.id)
            self.version += 1
            self._changed.notify_all()
        if not self._listeners:
            self._pending.append(msg)
            if len(self._pending) > self.max_messages:
                self._pending.popleft()
        else:
            try:  # parse and announce once the server has answered (the next turn of the loop)
                asyncio.get_running_loop().call_soon(self._announce, msg, pruned)
            except RuntimeError:
                self._announce(msg, pruned)
        return msg

    def _announce(self, msg: StoredMessage, pruned: builtins.list[str]) -> None:
        msg.summary()
        self._publish(InboxEvent("new", msg))
        if pruned:
            self._publish(InboxEvent("prune", None, {"IDs": pruned}))

    def record(self, attempts: Iterable[Attempt]) -> None:
        """Remember attempts (the oldest beyond ``max_attempts`` are forgotten)."""
        with self._lock:
            for a in attempts:
                self._attempts.append(a)
                key = a.rcpt.lower()
                per = self._by_rcpt.get(key)
                if per is None:
                    per = self._by_rcpt[key] = collections.deque()
                per.append(a)
                if len(self._attempts) > self.max_attempts:
                    old = self._attempts.popleft()
                    okey = old.rcpt.lower()
                    oper = self._by_rcpt[okey]
                    oper.popleft()
                    if not oper:
                        del self._by_rcpt[okey]
            self.version += 1
            self._changed.notify_all()

    # -- reading ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._messages)

    @property
    def unread(self) -> int:
        return self._unread

    def get(self, message_id: str) -> StoredMessage | None:
        """A message by id; ``"latest"`` is the newest one."""
        with self._lock:
            if message_id == "latest":
                return next(reversed(self._messages.values()), None)
            return self._messages.get(message_id)

    def newest(self, limit: int | None = None) -> list[StoredMessage]:
        """Messages newest first (all, or the first ``limit``)."""
        with self._lock:
            it: Iterator[StoredMessage] = reversed(self._messages.values())
            return list(itertools.islice(it, limit)) if limit is not None else list(it)

    def list(self, start: int = 0, limit: int = 50) -> Page:
        """A page of every message, newest first."""
        with self._lock:
            total = len(self._messages)
            it = itertools.islice(reversed(self._messages.values()), start, start + limit if limit else None)
            return Page(list(it), total, self._unread, total, self._unread, start)

    def search(self, query: str | Query, start: int = 0, limit: int = 50) -> Page:
        """A page of the messages matching a Mailpit query (``QueryError`` when it is malformed)."""
        q = parse_query(query) if isinstance(query, str) else query
        with self._lock:
            found = q.filter(list(reversed(self._messages.values()))) if q.terms else self.newest()
            unread = len(found) - sum(map(_READ, found))
            end = start + limit if limit else None
            return Page(found[start:end], len(self._messages), self._unread, len(found), unread, start)

    def attempts(self, rcpt: str | None = None, limit: int | None = None) -> builtins.list[Attempt]:
        """Attempts in order (oldest first), all or those of one recipient (case-insensitive)."""
        with self._lock:
            source = self._attempts if rcpt is None else self._by_rcpt.get(rcpt.lower(), ())
            items = list(source)
        return items[-limit:] if limit else items

    # -- changing ------------------------------------------------------------------------------
    def mark_read(self, ids: Iterable[str] | None, read: bool = True) -> int:
        """Set the read flag of ``ids`` (``None``: every message); how many changed."""
        changed: builtins.list[str] = []
        with self._lock:
            targets = self._messages.values() if ids is None else [self._messages.get(i) for i in ids]
            for m in targets:
                if m is not None and m.read != read:
                    m.read = read
                    self._unread += -1 if read else 1
                    changed.append(m.id)
            if changed:
                self.version += 1
        for mid in changed:
            self._publish(InboxEvent("update", None, {"ID": mid, "Read": read}))
        return len(changed)

    def delete(self, ids: Iterable[str] | None) -> int:
        """Delete ``ids`` (``None``: everything) from the index; the maildir files stay. How many."""
        with self._lock:
            if ids is None:
                gone = len(self._messages)
                self._messages.clear()
                self._unread = 0
                self.deleted += gone
                self.version += 1
                self._publish(InboxEvent("truncate"))
                return gone
            removed = [m for m in (self._messages.pop(i, None) for i in ids) if m is not None]
            self._unread -= sum(1 for m in removed if not m.read)
            self.deleted += len(removed)
            self.version += 1
        for m in removed:
            self._publish(InboxEvent("delete", None, {"ID": m.id}))
        return len(removed)

    def delete_search(self, query: str | Query) -> int:
        """Delete every message matching a query; how many."""
        q = parse_query(query) if isinstance(query, str) else query
        with self._lock:
            ids = [m.id for m in q.filter(list(self._messages.values()))]
        return self.delete(ids)

    def index_pending(self, budget: float) -> int:
        """Parse the summaries not parsed yet, for at most ``budget`` seconds; how many are left.

        The simulator calls it when its loop is idle, so that the first search after a burst
        does not parse thousands of messages at once."""
        deadline = time.perf_counter() + budget
        pending = self._pending
        while pending and time.perf_counter() < deadline:
            msg = pending.popleft()
            if msg.summary_cache is None and msg.id in self._messages:
                msg.summary()
        return len(pending)

    # -- listening -----------------------------------------------------------------------------
    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[InboxEvent]:
        """A queue of :class:`InboxEvent` on the running loop; events are dropped when it is full."""
        queue: asyncio.Queue[InboxEvent] = asyncio.Queue(maxsize)
        with self._lock:
            self._listeners.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[InboxEvent]) -> None:
        with self._lock:
            self._listeners = [(lp, q) for lp, q in self._listeners if q is not queue]

    def _publish(self, event: InboxEvent) -> None:
        for loop, queue in list(self._listeners):
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                _offer(queue, event)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_offer, queue, event)

    def wait_change(self, version: int, timeout: float) -> int:
        """Block (a thread, not the loop) until ``version`` moves on or ``timeout``; the new version."""
        with self._changed:
            if self.version == version:
                self._changed.wait(timeout)
            return self.version

    # -- restart ---------------------------------------------------------------------------------
    def rebuild(self, maildir: Path) -> int:
        """Index the ``.eml`` files already in ``maildir`` (oldest first); how many."""
        found: builtins.list[tuple[int, str, str, str]] = []
        try:
            folders = [d for d in os.scandir(maildir) if d.is_dir() and not d.name.startswith(("_", "."))]
        except OSError:
            return 0
        for folder in folders:
            for f in os.scandir(folder.path):
                if f.name.endswith(".eml") and not f.name.startswith("."):
                    found.append((f.stat().st_mtime_ns, folder.name, f.name[:-4], f.path))
        found.sort()
        for mtime, domain, queue_id, path in found[-self.max_messages :]:
            created = datetime.fromtimestamp(mtime / 1e9, UTC)
            rcpts = _received_for(path)
            msg = StoredMessage(
                message_id_for(domain, queue_id), created, domain, queue_id, os.path.getsize(path), "",
                rcpts, path, rcpts_lower=tuple(r.lower() for r in rcpts),
            )  # fmt: skip
            with self._lock:
                self._messages[msg.id] = msg
                self._pending.append(msg)
                self._unread += 1
        return min(len(found), self.max_messages)


_FOR = re.compile(
    rb"^Received: [^\r\n]*\r?\n[ \t][^\r\n]*mailfate simulator[^\r\n]*\r?\n[ \t]for <([^>\r\n]+)>;"
)


def _received_for(path: str) -> tuple[str, ...]:
    """The recipient the simulator's own ``Received`` header names (``for <x>``), if it names one."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return ()
    m = _FOR.match(head)
    return (m.group(1).decode("utf-8", "replace"),) if m else ()


def _offer(queue: asyncio.Queue[InboxEvent], event: InboxEvent) -> None:
    if not queue.full():
        queue.put_nowait(event)
