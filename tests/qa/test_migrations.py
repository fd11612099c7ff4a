"""The migrations build exactly the schema ``store/tables.py`` describes (tables, columns, indexes)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mailfate.store import Store
from mailfate.store.tables import metadata


def test_migrated_schema_matches_the_tables(store_url: str) -> None:
    store = Store.open(store_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert diff == []
