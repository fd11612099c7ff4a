"""recipients.remote_id: the id the receiver or SES gave the last accepted attempt (SES MessageId),
so SES notifications find their recipient.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("remote_id", sa.Text(), nullable=True))
        batch.create_index("ix_recipients_remote_id", ["remote_id"])


def downgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.drop_index("ix_recipients_remote_id")
        batch.drop_column("remote_id")
