"""The store's tables (SQLAlchemy Core). The migration in ``migrations/versions`` creates the same.

- ``messages``: one row per submitted message; the MIME is kept once (``raw``).
- ``recipients``: one row per recipient; it is also the queue (fate queued/deferred and due, or a
  lease that ran out). ``fate`` caches the fold of its events (see :mod:`mailfate.model.fate`).
- ``events``: append-only; never updated or deleted.
- ``suppressions``: addresses refused per sending domain (``scope``) or everywhere (``"*"``).
- ``api_keys``: keys of the HTTP API, stored as SHA-256 hashes with their scopes.
- ``rollups`` and ``rollups_daily``: counts of events per hour (per day), sending domain,
  recipient domain, category, kind, reason and latency bucket, folded in from ``events`` by
  :mod:`mailfate.store.rollups` (the dashboard and the alerts read these, not the events).
- ``cursors``: how far a reader of ``events`` has got (the rollup's position, by event id).
- ``webhook_state``: each webhook subscriber's position in ``events`` and its current retries.
- ``webhook_log``: every POST to a webhook subscriber: status, error, duration and outcome.
- ``sns_seen``: SNS MessageIds already taken, until their Timestamp is too old to be accepted
  anyway (replay protection shared by every process on the store, kept across restarts).
- ``reports``: the raw asynchronous reports (a DSN, an ARF complaint, an auto-reply, an SES
  document) as received; the events they produced name them (``report_id`` in their data).
  Kept ``[inbound] keep_reports_days``, then pruned.
- ``workers``: each worker process's heartbeat (``beat_at``, written every few seconds while it
  runs; ``stopped_at`` once it stopped cleanly), so a sender can tell that no worker is running.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UtcDateTime",
    "api_keys",
    "cursors",
    "events",
    "messages",
    "metadata",
    "recipients",
    "reports",
    "rollups",
    "sns_seen",
    "suppressions",
    "webhook_log",
    "webhook_state",
    "workers",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("from_addr", Text, nullable=False),
    Column("sending_domain", Text, nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("category", String(16), nullable=False, default="transactional"),
    Column("tags", JSON, nullable=False, default=list),
    Column("idempotency_key", Text, nullable=True, unique=True),
    Column("deadline", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("header_message_id", Text, nullable=False, default=""),
    Column("size", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("fate", String(16), nullable=False),
    Index("ix_messages_created_at", "created_at"),
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("message_id", String(32), ForeignKey("messages.id"), nullable=False),
    Column("address", Text, nullable=False),
    Column("domain", Text, nullable=False),
    Column("fate", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("lease_owner", Text, nullable=True),
    Column("last_reason", Text, nullable=True),
    Column("last_code", Integer, nullable=True),
    Column("last_status", Text, nullable=True),
    Column("last_text", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("remote_id", Text, nullable=True),
    Column("hard_bounce", Boolean, nullable=True),
    # The classifier's hard mark on the bounce that made the fate ``bounced`` (None before one):
    # hard and soft bounced recipients are counted from here (mailfate.model.bounces.fate_class),
    # not by reading each recipient's events.
    Index("ix_recipients_due", "fate", "next_attempt_at"),
    Index("ix_recipients_remote_id", "remote_id"),
    Index("ix_recipients_lease", "fate", "lease_until"),
    Index("ix_recipients_message", "message_id"),
    Index("ix_recipients_address", "address"),
    Index("ix_recipients_domain", "domain", "fate"),
    Index("ix_recipients_reason", "last_reason", "domain"),
)

events = Table(
    "events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("message_id", String(32), nullable=False),
    Column("recipient_id", _ID, nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("type", String(24), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("reason", String(32), nullable=True),
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_events_message", "message_id", "id"),
    Index("ix_events_at", "at"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("scope", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("source_message_id", String(32), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("scope", "address", name="uq_suppressions_scope_address"),
    Index("ix_suppressions_address", "address"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, default=""),
    Column("prefix", String(16), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)


ROLLUP_KEY = ("hour", "sending_domain", "rcpt_domain", "category", "kind", "reason", "bucket")
"""A rollup row's key: the columns its counts are grouped by (and may be summed by)."""


def _rollup_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("hour", UtcDateTime(), nullable=False),
        Column("sending_domain", Text, nullable=False),
        Column("rcpt_domain", Text, nullable=False),
        Column("category", String(16), nullable=False),
        Column("kind", String(24), nullable=False),
        Column("reason", String(32), nullable=False, default=""),
        Column("bucket", Integer, nullable=False, default=-1),
        Column("n", BigInteger, nullable=False),
        UniqueConstraint(*ROLLUP_KEY, name=f"uq_{name}_key"),
    )


rollups = _rollup_table("rollups")
rollups_daily = _rollup_table("rollups_daily")
"""The same counts per day (``hour`` is the day's midnight, UTC): what windows of days read."""

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

webhook_state = Table(
    "webhook_state",
    metadata,
    Column("subscriber", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("lease_owner", Text, nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
)

webhook_log = Table(
    "webhook_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subscriber", String(64), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Index("ix_webhook_log_subscriber", "subscriber", "id"),
)

sns_seen = Table(
    "sns_seen",
    metadata,
    Column("message_id", String(128), primary_key=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_sns_seen_expires_at", "expires_at"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message_id", String(32), nullable=True),
    Column("raw", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Index("ix_reports_received_at", "received_at"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("beat_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Index("ix_workers_beat_at", "beat_at"),
)
