"""The SQLite write lock is given back only by the connection that took it, once. Regression: a
BEGIN IMMEDIATE that failed (another process held SQLite's lock past the busy timeout) released
the process lock in its handler and again in the rollback that followed, freeing the next
writer's lock: "RuntimeError: release unlocked lock" under the API benchmark."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import mailfate.store.engine as store_engine
from mailfate.store.engine import make_engine, write_lock


def test_a_second_rollback_does_not_release_another_threads_lock(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "s.db")
    lock = write_lock(engine)
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            holding.set()
            release.wait(10)

    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
        conn.rollback()  # the lock is free again here
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert holding.wait(10)  # the other thread holds the lock now
    # leaving the block ended the transaction a second time: the other thread still holds it
    assert lock.locked()
    release.set()
    thread.join(10)
    assert not lock.locked()
    engine.dispose()


def test_a_failed_begin_never_frees_the_lock_of_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT", 0.3)
    path = tmp_path / "s.db"
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    lock = write_lock(engine)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
        except OperationalError:
            pass  # "database is locked": expected, the other process never lets go
        except BaseException as exc:  # e.g. RuntimeError: release unlocked lock
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other_process.execute("ROLLBACK")
    other_process.close()
    assert errors == []
    assert not lock.locked()
    with engine.begin() as conn:  # and the lock still works
        conn.execute(text("INSERT INTO t VALUES (2)"))
    engine.dispose()
