"""Hourly and daily rollups of the events (the dashboard and the alerts read them), reader cursors,
and an index on recipients (last_reason, domain): searching by reason, and by reason at one domain,
without a scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_recipients_reason", "recipients", ["last_reason", "domain"])
    for name in ("rollups", "rollups_daily"):
        op.create_table(
            name,
            sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sending_domain", sa.Text(), nullable=False),
            sa.Column("rcpt_domain", sa.Text(), nullable=False),
            sa.Column("category", sa.String(length=16), nullable=False),
            sa.Column("kind", sa.String(length=24), nullable=False),
            sa.Column("reason", sa.String(length=32), nullable=False),
            sa.Column("bucket", sa.Integer(), nullable=False),
            sa.Column("n", sa.BigInteger(), nullable=False),
            sa.UniqueConstraint(
                "hour",
                "sending_domain",
                "rcpt_domain",
                "category",
                "kind",
                "reason",
                "bucket",
                name=f"uq_{name}_key",
            ),
        )
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_index("ix_recipients_reason", "recipients")
    op.drop_table("cursors")
    op.drop_table("rollups_daily")
    op.drop_table("rollups")
