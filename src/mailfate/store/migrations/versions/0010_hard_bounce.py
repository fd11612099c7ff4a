"""recipients.hard_bounce: the hard mark of the bounce that ended a recipient, written with its fate,
so hard and soft bounced recipients are counted without reading their events (/v1/stats, /metrics).
Existing bounced recipients get it from their bounce events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("hard_bounce", sa.Boolean(), nullable=True))
    recipients = sa.table(
        "recipients",
        sa.column("id", sa.BigInteger()),
        sa.column("message_id", sa.String()),
        sa.column("fate", sa.String()),
        sa.column("hard_bounce", sa.Boolean()),
    )
    events = sa.table(
        "events",
        sa.column("message_id", sa.String()),
        sa.column("recipient_id", sa.BigInteger()),
        sa.column("type", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("data", sa.JSON()),
    )
    marked = (
        sa.select(sa.literal(1))
        .where(
            events.c.message_id == recipients.c.message_id,
            events.c.recipient_id == recipients.c.id,
            sa.or_(
                events.c.type == "bounced", sa.and_(events.c.type == "attempt", events.c.outcome == "bounced")
            ),
            events.c.data["hardbounce"].as_boolean().is_(True),
        )
        .exists()
    )
    op.execute(recipients.update().where(recipients.c.fate == "bounced").values(hard_bounce=marked))


def downgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("hard_bounce")
