"""The store: one database, its repositories per concern.

:meth:`Store.open` builds the :class:`~mailfate.store.database.Database` (engines, dialect, the
write lock) and one repository per concern over it. Each layer is handed only the repositories it
uses (``mailfate.runtime`` wires them; ``docs/architecture.md`` has the table); a repository's
writes are one transaction each, and a write that spans concerns (a report: its events and
suppressions) stays one transaction through the ``…_in(conn, …)`` functions they share.

All methods are synchronous and thread-safe (one engine, a connection per call); the worker calls
them from one thread so the event loop never waits on the disk. See ``engine.py`` for what a
committed transaction survives.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import OperationalError

from mailfate.store.database import Database, fix_for
from mailfate.store.errors import StoreError
from mailfate.store.keys import Keys
from mailfate.store.messages import Messages
from mailfate.store.queue import Queue
from mailfate.store.rollups import Rollups
from mailfate.store.sns_seen import SnsSeen
from mailfate.store.stats import Stats
from mailfate.store.suppressions import Suppressions
from mailfate.store.webhooks import Webhooks
from mailfate.store.workers import Workers

__all__ = ["Store"]


class Store:
    """One database and its repositories: ``queue``, ``messages`` (and events, reports),
    ``suppressions``, ``keys``, ``rollups``, ``stats``, ``webhooks``, ``workers``, ``sns``."""

    def __init__(self, url: str | Path) -> None:
        self.db = db = Database(url)
        self.url = db.url
        self.shown = db.shown
        """The URL as outputs and errors show it: the password masked."""
        self.engine = db.engine
        self.queue = Queue(db)
        self.messages = Messages(db)
        self.suppressions = Suppressions(db)
        self.keys = Keys(db)
        self.rollups = Rollups(db)
        self.stats = Stats(db)
        self.webhooks = Webhooks(db)
        self.workers = Workers(db)
        self.sns = SnsSeen(db)

    @classmethod
    def open(cls, url: str | Path) -> Store:
        """Open (creating or migrating the schema to the latest revision) a store."""
        store = cls(url)
        try:
            store.migrate()
        except OperationalError as exc:
            store.close()
            raise StoreError(f"cannot open the store {store.shown}: {exc.orig}", fix=fix_for(exc)) from exc
        return store

    def migrate(self) -> None:
        self.db.migrate()

    def close(self) -> None:
        self.db.close()
