"""The store: messages, recipients (the queue), events and suppressions — SQLite or PostgreSQL.

:class:`Store` is one :class:`Database` and its repositories per concern (``store.queue``,
``store.messages``, ``store.suppressions``, ``store.keys``, ``store.rollups``, ``store.stats``,
``store.webhooks``, ``store.workers``, ``store.sns``); each layer is handed only those it uses.

What it hands out and takes in are :mod:`mailfate.model`'s values (``MessageView``,
``NewMessage``…); import them from there.
"""

from __future__ import annotations

from mailfate.store.database import Database
from mailfate.store.errors import StoreError
from mailfate.store.ids import new_message_id
from mailfate.store.repo import Store
from mailfate.store.reports import NewReport, ReportEvent, StoredReport

__all__ = ["Database", "NewReport", "ReportEvent", "Store", "StoreError", "StoredReport", "new_message_id"]
