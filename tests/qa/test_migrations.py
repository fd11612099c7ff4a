"""The migrations build exactly the schema ``store/tables.py`` describes (tables, columns, indexes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select

from mailfate.store import Store, tables
from mailfate.store.engine import make_engine
from mailfate.store.tables import metadata


def test_migrated_schema_matches_the_tables(store_url: str) -> None:
    store = Store.open(store_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert diff == []


def test_0010_marks_existing_bounced_recipients_from_their_events(store_url: str) -> None:
    """A store made before ``recipients.hard_bounce`` gets it from each bounced recipient's events:
    hard when a bounce carries the classifier's hard mark, soft otherwise; open fates stay None."""
    engine = make_engine(store_url)
    config = Config()
    config.set_main_option("script_location", str(Path(tables.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")
    now = datetime.now(UTC)
    message = {
        "id": "m1", "created_at": now, "from_addr": "a@app.example", "sending_domain": "app.example",
        "subject": "s", "category": "transactional", "tags": [], "expires_at": now,
        "header_message_id": "<x@a>", "size": 1, "raw": b"x", "fate": "bounced",
    }  # fmt: skip
    cases = ((1, "bounced", True), (2, "bounced", False), (3, "deferred", None))
    with engine.begin() as conn:
        conn.execute(tables.messages.insert(), message)
        for rid, fate, hard in cases:
            conn.execute(
                tables.recipients.insert().values(
                    id=rid, message_id="m1", address=f"u{rid}@naver.com", domain="naver.com", fate=fate,
                    attempts=1, updated_at=now,
                )
            )  # fmt: skip
            if hard is not None:
                conn.execute(
                    tables.events.insert(),
                    {"message_id": "m1", "recipient_id": rid, "at": now, "type": "attempt",
                     "outcome": "bounced", "reason": "userunknown", "data": {"hardbounce": hard}},
                )  # fmt: skip
    engine.dispose()
    store = Store.open(store_url)  # migrates to head: 0010 reads the events
    try:
        with store.engine.connect() as conn:
            marks = dict(conn.execute(select(tables.recipients.c.id, tables.recipients.c.hard_bounce)).all())
        assert marks == {1: True, 2: False, 3: None}
        counts = store.stats.bounce_counts()["naver.com"]
        assert (counts.hard, counts.soft) == (1, 1)
    finally:
        store.close()
