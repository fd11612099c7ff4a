"""Alembic environment: the connection comes from ``Store.open`` (no alembic.ini on disk)."""

from __future__ import annotations

from alembic import context

from mailfate.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
