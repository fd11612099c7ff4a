"""Worker heartbeats, on SQLite and PostgreSQL: ``Client.wait`` and ``mailfate send`` know whether a
worker is alive — a real ``WorkerService`` beats while it runs and says so when it stops — and
``wait`` returns at once with ``no_worker`` set instead of timing out on ``queued``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mailfate.cli.app import app
from mailfate.client import Client
from mailfate.store import Store
from mailfate.store.tables import workers
from tests.unit.engine.test_engine_paths import start_worker, stop_worker

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(workers)).scalar_one())


def test_the_heartbeat_says_alive_stale_stopped_or_never(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        never = store.workers.worker_status(T0)
        assert not never.alive and never.last is None
        assert never.hint is not None and never.hint.startswith("no worker has ever run on this store")
        store.workers.worker_beat("w1", host="a", pid=11, started_at=T0, now=T0)
        assert store.workers.worker_status(T0 + timedelta(seconds=10)).alive
        stale = store.workers.worker_status(T0 + timedelta(seconds=31))  # six beats missed: a dead worker
        assert not stale.alive and stale.idle == 31 and stale.last is not None and stale.last.pid == 11
        assert stale.hint is not None and stale.hint.startswith(
            "no worker has run for 31 s (a pid 11 last beat"
        )
        assert store.workers.worker_status(T0 + timedelta(seconds=31), threshold=60).alive
        store.workers.worker_beat("w2", host="b", pid=22, started_at=T0, now=T0 + timedelta(seconds=40))
        store.workers.worker_stopped(
            "w1", now=T0 + timedelta(seconds=41)
        )  # a newer stop hides no live worker
        live = store.workers.worker_status(T0 + timedelta(seconds=42))
        assert live.alive and live.hint is None and live.last is not None and live.last.id == "w2"
        store.workers.worker_stopped("w2", now=T0 + timedelta(seconds=43))
        stopped = store.workers.worker_status(T0 + timedelta(seconds=45))  # a clean stop is known at once
        assert not stopped.alive and stopped.hint is not None and "stopped at" in stopped.hint
        store.workers.worker_beat("w2", host="b", pid=22, started_at=T0, now=T0 + timedelta(seconds=50))
        assert store.workers.worker_status(T0 + timedelta(seconds=51)).alive  # beating again: alive again
        assert rows(store) == 2
        store.workers.worker_beat("w3", host="c", pid=33, started_at=T0, now=T0 + timedelta(days=2))
        assert rows(store) == 1  # workers silent for a day are forgotten by a live one's beat
    finally:
        store.close()


def test_wait_returns_at_once_without_a_worker_and_waits_for_the_fate_with_one(
    store_url: str, tmp_path: Path
) -> None:
    with Client(store_url) as client:
        queued = client.send(
            from_="no-reply@app.example", to="kim@accept.mailfate.test", subject="s", text="t"
        )
        started = time.monotonic()
        view = client.wait(queued.message_id, timeout=20)
        assert time.monotonic() - started < 5  # not the timeout: nothing would deliver it
        assert view.fate == "queued" and view.no_worker is not None
        assert view.no_worker.startswith("no worker has ever run on this store")
    service, thread, loop, stop = start_worker(tmp_path, store_url=store_url)
    try:
        with Client(store_url, settings=service.settings) as client:
            assert client.worker_status().alive  # the first beat is written before start returns
            view = client.wait(queued.message_id, timeout=30)  # the worker delivers what waited
            assert view.fate == "delivered" and view.no_worker is None
            again = client.send(
                from_="no-reply@app.example", to="lee@accept.mailfate.test", subject="s", text="t"
            )
            assert client.wait(again.message_id, timeout=30).fate == "delivered"
    finally:
        stop_worker(thread, loop, stop)
    with Client(store_url) as client:
        late = client.send(
            from_="no-reply@app.example", to="park@accept.mailfate.test", subject="s", text="t"
        )
        view = client.wait(late.message_id, timeout=20)
        assert view.fate == "queued" and view.no_worker is not None
        assert view.no_worker.startswith("no worker has run for") and "stopped at" in view.no_worker


def test_send_prints_the_hint_once_when_no_worker_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    args = ["send", "--from", "a@app.example", "--to", "kim@naver.test", "--subject", "s", "--text", "t"]
    data = ["--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(app, [*args, *data])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("m")
    assert result.stderr.count("no worker has ever run on this store") == 1
    as_json = CliRunner().invoke(app, [*args, "--json", *data])
    assert as_json.exit_code == 0 and as_json.stdout.strip().startswith('{"message_id"')  # stdout stays JSON
    assert "no worker has ever run" in as_json.stderr
    store = Store.open(tmp_path / "d" / "mailfate.db")
    try:
        store.workers.worker_beat("w", host="h", pid=1, started_at=datetime.now(UTC), now=datetime.now(UTC))
    finally:
        store.close()
    quiet = CliRunner().invoke(app, [*args, *data])
    assert quiet.exit_code == 0 and "no worker" not in quiet.stderr
