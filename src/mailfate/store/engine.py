"""A store URL (or a path) → a SQLAlchemy engine with the settings the queue needs.

Durable by default: a commit returns only once the transaction is on disk, so the doors that
acknowledge on a commit (the API's 202, SMTP submission's 250 after DATA, the inbound server's 250)
promise what an MTA's acknowledgement promises.

SQLite: WAL (readers never wait for the writer) with ``synchronous=FULL`` — each commit fsyncs the
WAL, so it survives a power loss or a kernel crash; the HTTP API's group commit
(``submit/batcher.py``, ``Queue.submit_many``) pays that fsync once per batch, not once per
message. ``?synchronous=normal`` in the URL is the explicit opt-out: a committed transaction
still survives the process being killed (kill -9), but a power loss or a kernel crash can lose
the last acknowledged messages, recorded results and DSNs. ``busy_timeout`` 10 s, foreign keys
on, and every transaction starts with ``BEGIN IMMEDIATE`` so that two writers never deadlock on a
lock upgrade.

PostgreSQL: ``postgresql+psycopg://...``. Durability is the server's ``synchronous_commit``: the
first connection of an engine reads the effective value (role, database, URL ``options`` all
count) and logs a warning when it is ``off`` — the server then acknowledges commits before they
are on disk.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from mailfate.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = [
    "BUSY_TIMEOUT",
    "DEFAULT_SYNCHRONOUS",
    "begin_immediate",
    "make_engine",
    "normalize_url",
    "warn_if_not_durable",
    "write_lock",
]

BUSY_TIMEOUT = 10.0
"""Seconds a writer waits for SQLite's write lock before giving up with an error."""

_SYNC = {"normal": "NORMAL", "full": "FULL", "off": "OFF"}
DEFAULT_SYNCHRONOUS = "full"
"""SQLite's ``synchronous`` unless the store URL says otherwise (``?synchronous=normal``)."""


def normalize_url(url_or_path: str | Path) -> str:
    text = str(url_or_path)
    if "://" in text:
        if text.startswith("postgresql://"):
            text = "postgresql+psycopg://" + text[len("postgresql://") :]
        return text
    if not text:
        raise ConfigError("store: empty URL; give a file path or sqlite:///... or postgresql+psycopg://...")
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def redact_url(url: str) -> str:
    """``url`` with its password masked (``postgresql+psycopg://u:***@h/db``), for every output
    and error; a file path as it is."""
    if "://" not in url or "@" not in url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite store URL names (None for PostgreSQL or an in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("?", 1)[0]
    if path in ("sqlite://", "sqlite:///:memory:"):
        return None
    return Path(path.removeprefix("sqlite:///"))


def make_engine(url_or_path: str | Path, *, writer: bool = True) -> Engine:
    """``writer=False`` (SQLite): an engine for reads, whose transactions are plain deferred
    BEGINs — WAL readers take no lock and never wait for the writer."""
    url = normalize_url(url_or_path)
    parts = urlsplit(url)
    if url.startswith("sqlite"):
        query = parse_qs(parts.query)
        sync = _SYNC.get((query.get("synchronous") or [DEFAULT_SYNCHRONOUS])[0].lower())
        if sync is None:
            raise ConfigError(f"store URL {redact_url(url)}: synchronous must be normal, full or off")
        path = url.split("?", 1)[0]
        if path not in ("sqlite://", "sqlite:///:memory:"):
            Path(path.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(path, connect_args={"check_same_thread": False, "timeout": 10})
        _sqlite_events(engine, sync, writer=writer)
        return engine
    if url.startswith("postgresql"):
        try:
            engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # the driver is an extra: pip install 'mailfate[postgres]'
            raise ConfigError(
                f"store URL {redact_url(url)}: the PostgreSQL driver is not installed ({exc.name}); "
                "install it with: pip install 'mailfate[postgres]'"
            ) from exc
        _postgresql_events(engine)
        return engine
    raise ConfigError(f"store URL {redact_url(url)}: only sqlite and postgresql are supported")


def _postgresql_events(engine: Engine) -> None:
    @event.listens_for(engine, "first_connect")
    def _check(dbapi_conn: Any, _record: Any) -> None:
        warn_if_not_durable(dbapi_conn, engine.url.render_as_string(hide_password=True))


def warn_if_not_durable(dbapi_conn: Any, where: str) -> str:
    """Log a warning when PostgreSQL's ``synchronous_commit`` is ``off`` on this connection (the
    effective value: server, database, role and connection options all count); return it."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("SHOW synchronous_commit")
        row = cursor.fetchone()
    finally:
        cursor.close()
    if getattr(dbapi_conn, "autocommit", True) is False:
        dbapi_conn.rollback()  # SHOW opened a transaction: leave the connection as we found it
    value = str(row[0]).lower() if row else ""
    if value == "off":
        log.warning(
            "store %s: PostgreSQL runs with synchronous_commit=off: commits are acknowledged before "
            "they are on disk, so a server crash or power loss can lose acknowledged messages, "
            "recorded results and DSNs; set synchronous_commit=on (ALTER SYSTEM, ALTER DATABASE or "
            "ALTER ROLE) to make each acknowledgement durable",
            where,
        )
    return value


def _sqlite_events(engine: Engine, sync: str, *, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver stays out of the way; we BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sync}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if writer:  # statement journals in memory, not a temp file per statement; readers' sorts
            cursor.execute("PRAGMA temp_store=MEMORY")  # of big searches may still spill to disk
        cursor.execute("PRAGMA busy_timeout=0")  # waiting for the write lock happens in _begin
        cursor.close()

    if not writer:

        @event.listens_for(engine, "begin")
        def _read(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return
    lock = write_lock(engine)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        lock.acquire()
        try:
            begin_immediate(conn.exec_driver_sql)
        except BaseException:
            lock.release()
            raise
        conn.info[_HOLDS_LOCK] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn: Any) -> None:
        # Only the connection that took the lock gives it back, and once: a transaction ended
        # twice (an explicit rollback inside ``engine.begin()``) must not release another
        # thread's lock.
        if conn.info.pop(_HOLDS_LOCK, False):
            lock.release()


_HOLDS_LOCK = "mailfate_holds_write_lock"

_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def write_lock(engine: Engine) -> threading.Lock:
    """The process-wide lock of an SQLite engine's writers: threads of one process queue on it
    (woken at once when it frees) instead of polling SQLite's file lock; processes still meet at
    SQLite's lock (``begin_immediate``)."""
    lock = _LOCKS.get(engine)
    if lock is None:
        lock = _LOCKS.setdefault(engine, threading.Lock())
    return lock


def begin_immediate(execute: Callable[[str], Any]) -> None:
    """``BEGIN IMMEDIATE``, waiting for SQLite's write lock for up to ``BUSY_TIMEOUT`` seconds.

    BEGIN IMMEDIATE takes the write lock or fails at once. Retrying it with sleeps of a fraction of
    a millisecond gets the lock soon after it comes free; SQLite's own busy handler sleeps 1 to
    100 ms between tries, which idles the submitting application and the worker in turn. Inside
    the transaction nothing else waits: WAL readers never block and the lock is held.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.0001
    while True:
        try:
            execute("BEGIN IMMEDIATE")
            return
        except (OperationalError, sqlite3.OperationalError) as exc:
            text = str(getattr(exc, "orig", exc)).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)
