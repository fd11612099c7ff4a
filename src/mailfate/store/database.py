"""The one database every repository shares: its URL, engines (a writer, and on SQLite a reader
that never waits for it), dialect, the SQLite write path and the errors a failed write raises.

See ``engine.py`` for what a committed transaction survives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from mailfate.store.engine import begin_immediate, make_engine, normalize_url, redact_url, write_lock
from mailfate.store.errors import StoreError

__all__ = ["Database", "fix_for"]

T = TypeVar("T")


class Database:
    """One store's engines. Repositories take it; nothing here knows a table."""

    def __init__(self, url: str | Path) -> None:
        self.url = normalize_url(url)
        self.shown = redact_url(self.url)
        """The URL as outputs and errors show it: the password masked."""
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self.reader = make_engine(self.url, writer=False) if self.dialect == "sqlite" else self.engine

    def migrate(self) -> None:
        """Create or migrate the schema to the latest revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()
        self.reader.dispose()

    @contextmanager
    def writing(self, what: str = "write to") -> Iterator[Connection]:
        """One write transaction; a database that cannot be written raises :class:`StoreError`
        naming the store and the fix (``cannot {what} the store …``)."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreError(f"cannot {what} the store {self.shown}: {exc.orig}", fix=fix_for(exc)) from exc

    def sqlite_write(self, write: Callable[..., T], *args: Any, what: str) -> T:
        """Run ``write(cursor, *args)`` in one BEGIN IMMEDIATE transaction on the sqlite3 driver."""
        raw_conn = self.engine.raw_connection()
        try:
            cursor = raw_conn.cursor()
            with write_lock(self.engine):
                begin_immediate(cursor.execute)
                try:
                    result = write(cursor, *args)
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot {what} the store {self.shown}: {exc}", fix=fix_for(exc)) from exc
        finally:
            raw_conn.close()
        return result


class Repository:
    """A repository: one concern's reads and writes over the shared :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.reader = db.reader
        self.dialect = db.dialect


def fix_for(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text:
        return "the disk (or the database size limit) is full: free space and restart; nothing was written"
    if "readonly" in text or "read-only" in text or "permission" in text:
        return "the store file or its folder is not writable by this user"
    if "unable to open" in text:
        return "check that the folder exists and is writable"
    return "check the store URL and that the database is reachable"
