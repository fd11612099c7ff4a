"""Durable by default: an acknowledgement (the API's 202, SMTP submission's 250 after DATA, the
inbound server's 250) comes only after the transaction is on disk.

SQLite's fsync happens in C, so wrapping ``os.fsync`` shows nothing: the store's connections are
checked for ``PRAGMA synchronous`` = FULL, and a real ``mailfate serve`` runs under
``strace -f -e trace=fsync,fdatasync``; for each door the WAL of the store is fsynced after the
client sent the transaction and before the acknowledgement reached it. PostgreSQL: the store
warns at start when the effective ``synchronous_commit`` is ``off``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailfate.model.verp import VerpCodec
from mailfate.simulator.dsnbuild import build_dsn
from mailfate.store import Store
from tests.support.serve import clean_env, mailfate

FULL, NORMAL = 2, 1


def _pragma(engine: Any, name: str) -> Any:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA {name}")
        value = cursor.fetchone()[0]
        cursor.close()
        return value
    finally:
        raw.close()


# -- SQLite: the connections the store hands out ----------------------------------------------------


def test_sqlite_store_connections_are_synchronous_full_by_default(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store.db")
    try:
        for engine in (store.engine, store.db.reader):
            assert _pragma(engine, "journal_mode") == "wal"
            assert _pragma(engine, "synchronous") == FULL
    finally:
        store.close()


def test_sqlite_writers_keep_temporary_data_in_memory(tmp_path: Path) -> None:
    """The writers' statement journals live in memory (``temp_store=MEMORY``): a submit made a temp
    file — open, unlink, writes, close — per statement that could abort half-way. They never hold
    acknowledged data, so durability is the WAL's alone. Readers keep the default: the sort of a
    big search may spill to a file rather than grow the process."""
    store = Store.open(tmp_path / "store.db")
    try:
        assert _pragma(store.engine, "temp_store") == 2  # MEMORY
        assert _pragma(store.db.reader, "temp_store") == 0  # the default (a file)
    finally:
        store.close()


def test_synchronous_normal_in_the_url_is_the_explicit_opt_out(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}?synchronous=normal")
    try:
        assert _pragma(store.engine, "synchronous") == NORMAL
        assert _pragma(store.db.reader, "synchronous") == NORMAL
    finally:
        store.close()


# -- PostgreSQL: synchronous_commit=off is named at start -----------------------------------------


def _pg_exec(server: Any, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "mailfate.store.engine" and r.levelno == logging.WARNING
    ]


def test_postgresql_synchronous_commit_off_is_warned_about_at_start(
    pg_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = pg_server.new_database()
    name = url.rsplit("/", 1)[1]
    caplog.set_level(logging.WARNING, logger="mailfate.store.engine")

    # The session's server runs with synchronous_commit=off; this database overrides it: no warning.
    _pg_exec(pg_server, f"ALTER DATABASE {name} SET synchronous_commit = on")
    Store.open(url).close()
    assert _warnings(caplog) == []

    # Off for this database (what the store's connections get): the warning names the setting and
    # the risk, and the store still opens.
    _pg_exec(pg_server, f"ALTER DATABASE {name} SET synchronous_commit = off")
    store = Store.open(url)
    try:
        assert store.messages.message("nothing") is None
    finally:
        store.close()
    (warning,) = _warnings(caplog)
    assert "synchronous_commit=off" in warning
    assert "acknowledged messages" in warning and "power loss" in warning
    assert name in warning

    # On for the database but off in the store URL's connection options: the effective value counts.
    caplog.clear()
    _pg_exec(pg_server, f"ALTER DATABASE {name} SET synchronous_commit = on")
    Store.open(url + "?options=-csynchronous_commit%3Doff").close()
    assert len(_warnings(caplog)) == 1


# -- the three doors of a real ``mailfate serve``, under strace ----------------------------------

_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_CALL = re.compile(r"^(fsync|fdatasync)\((\d+)<([^>]*)>")
_RESUMED = re.compile(r"^<\.\.\. (fsync|fdatasync) resumed>")


@dataclass
class Traced:
    data: Path
    log: Path
    ready: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)

    def wal_syncs(self) -> list[tuple[float, float]]:
        """(entry, exit) wall-clock times of each completed fsync/fdatasync of the store's WAL."""
        done: list[tuple[float, float]] = []
        pending: dict[str, tuple[float, str]] = {}
        for line in self.log.read_text("utf-8", "replace").splitlines():
            m = _LINE.match(line)
            if m is None:
                continue
            pid, at, rest = m.group(1), float(m.group(2)), m.group(3)
            call = _CALL.match(rest)
            if call is not None:
                if rest.endswith("<unfinished ...>"):
                    pending[pid] = (at, call.group(3))
                elif rest.rstrip().endswith("= 0") and call.group(3).endswith("mailfate.db-wal"):
                    done.append((at, at))
            elif _RESUMED.match(rest) and pid in pending:
                start, path = pending.pop(pid)
                if path.endswith("mailfate.db-wal") and rest.rstrip().endswith("= 0"):
                    done.append((start, at))
        return done

    def synced_between(self, sent: float, acked: float) -> bool:
        """A WAL fsync began after the client sent (``sent``) and ended before the acknowledgement
        reached it (``acked``)."""
        return any(sent <= start and end <= acked for start, end in self.wal_syncs())

    def assert_synced_between(self, sent: float, acked: float, door: str) -> None:
        """strace writes each line before the traced thread goes on; waiting on the file only
        covers a lagging write of the log."""
        deadline = time.monotonic() + 10
        while True:
            if self.synced_between(sent, acked):
                return
            syncs = self.wal_syncs()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{door}: no fsync of the store's WAL between the request ({sent:.6f}) and the "
                    f"acknowledgement ({acked:.6f}); WAL fsyncs seen: {len(syncs)}"
                )
            time.sleep(0.02)


def _child_of(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            if children:
                return int(children[0])
    return None


@contextlib.contextmanager
def traced_serve(data: Path, store_url: str | None = None) -> Iterator[Traced]:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (Debian package strace): the fsync trace needs it")
    log = data / "strace.log"
    env = clean_env()
    if store_url is not None:
        env["MAILFATE_STORE_URL"] = store_url
    keys = {
        scope: json.loads(
            mailfate("keys", "create", "--scope", scope, "--json", "--data-dir", str(data)).stdout
        )["key"]
        for scope in ("send", "read")
    }
    cmd = [
        strace,
        "-f",
        "-qq",
        "-ttt",
        "-y",
        "-e",
        "trace=fsync,fdatasync",
        "-e",
        "signal=none",
        "-o",
        str(log),
        sys.executable,
        "-m",
        "mailfate",
        "serve",
        "--data-dir",
        str(data),
        "--http-port",
        "0",
        "--inbound-port",
        "0",
        "--submission-port",
        "0",
        "--no-webhooks",
        "--json",
    ]
    errors = data / "serve.err"  # a file, not a pipe: nobody reads it while serve runs
    with errors.open("w") as err_out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_out, text=True, env=env)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line:
            proc.wait(30)
            err = errors.read_text("utf-8", "replace")
            if "ptrace" in err or "Operation not permitted" in err:
                pytest.skip(f"strace cannot trace here: {err.strip()[:200]}")
            raise RuntimeError(f"mailfate serve under strace exited before it was ready: {err[-2000:]}")
        yield Traced(data, log, json.loads(line), keys)
    finally:
        child = _child_of(proc.pid)
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)  # strace exits when the traced serve does
        else:
            proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        proc.stdout.close()


@pytest.fixture(scope="module")
def traced() -> Iterator[Traced]:
    data = Path(tempfile.mkdtemp(prefix="mailfate-durable-"))
    try:
        with traced_serve(data) as t:
            _post_timed(t)  # the first commit into a new WAL syncs its header in any mode: not a proof
            yield t
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _api(t: Traced, scope: str) -> httpx.Client:
    return httpx.Client(
        base_url=t.ready["http"], headers={"Authorization": f"Bearer {t.keys[scope]}"}, timeout=20
    )


_BODY = {"from": "no-reply@app.example", "to": ["kim@accept.mailfate.test"], "subject": "s", "text": "t"}


def _post_timed(t: Traced) -> tuple[str, float, float]:
    with _api(t, "send") as send:
        send.get("/v1/health")  # the connection is open: the window holds only the submit
        sent = time.time()
        answer = send.post("/v1/messages", json=_BODY)
        acked = time.time()
    assert answer.status_code == 202, answer.text
    return str(answer.json()["message_id"]), sent, acked


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_api_202_comes_after_the_fsync(traced: Traced) -> None:
    _, sent, acked = _post_timed(traced)
    traced.assert_synced_between(sent, acked, "POST /v1/messages")


def test_smtp_submission_250_after_data_comes_after_the_fsync(traced: Traced) -> None:
    host, port = traced.ready["submission"].rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(traced.data / "submission-cert.pem"))
    context.check_hostname = False  # the certificate names localhost; the test talks to 127.0.0.1

    with smtplib.SMTP(host, int(port), timeout=10) as client:
        client.starttls(context=context)
        client.login("app", traced.keys["send"])
        client.mail("no-reply@app.example")
        client.rcpt("park@accept.mailfate.test")
        sent = time.time()
        code, _ = client.data(
            b"From: no-reply@app.example\r\nTo: park@accept.mailfate.test\r\nSubject: hi\r\n\r\nbody\r\n"
        )
        acked = time.time()
    assert code == 250
    traced.assert_synced_between(sent, acked, "SMTP submission DATA")


def test_inbound_dsn_250_comes_after_the_fsync(traced: Traced) -> None:
    mid, _, _ = _post_timed(traced)
    with _api(traced, "read") as read:
        _wait_for(lambda: read.get(f"/v1/messages/{mid}").json()["fate"] == "delivered", "the delivery")
    reader = Store(traced.data / "mailfate.db")
    try:
        rid = reader.messages.find_recipient(mid, "kim@accept.mailfate.test")
    finally:
        reader.close()
    assert rid is not None
    verp = VerpCodec((traced.data / "verp.key").read_bytes().strip(), "bounces.mailfate.test").encode(
        mid, rid
    )
    original = (
        f"Return-Path: <{verp}>\r\nFrom: no-reply@app.example\r\nTo: kim@accept.mailfate.test\r\n"
        "Subject: s\r\n\r\nt\r\n"
    ).encode()
    dsn = build_dsn(
        original,
        reporting_mta="mx.accept.mailfate.test",
        rcpt="kim@accept.mailfate.test",
        envelope_sender=verp,
    )
    host, port = traced.ready["inbound"].rsplit(":", 1)

    with smtplib.SMTP(host, int(port), timeout=10) as client:
        client.ehlo("mx.accept.mailfate.test")
        client.mail("")
        client.rcpt(verp)
        sent = time.time()
        code, text = client.data(dsn)
        acked = time.time()
    assert code == 250 and b"recorded" in text, text
    traced.assert_synced_between(sent, acked, "inbound DSN DATA")
    with _api(traced, "read") as read:
        assert read.get(f"/v1/messages/{mid}").json()["fate"] == "bounced"


def test_the_trace_tells_the_opt_out_apart() -> None:
    """The control: with ``?synchronous=normal`` the same 202 comes with no fsync at all — what the
    three door tests see is the store's durability, not the trace's noise."""
    data = Path(tempfile.mkdtemp(prefix="mailfate-normal-"))
    try:
        with traced_serve(data, f"sqlite:///{data / 'mailfate.db'}?synchronous=normal") as t:
            _post_timed(t)  # the first commit into a new WAL syncs its header, in any mode
            windows = [_post_timed(t)[1:] for _ in range(3)]
        # serve and strace have exited: the log is complete
        assert [t.synced_between(sent, acked) for sent, acked in windows] == [False, False, False]
    finally:
        shutil.rmtree(data, ignore_errors=True)
