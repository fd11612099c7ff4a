"""SNS message ids already taken, kept for as long as their Timestamp counts as fresh (replays).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sns_seen",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_sns_seen_expires_at", "sns_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sns_seen_expires_at", table_name="sns_seen")
    op.drop_table("sns_seen")
