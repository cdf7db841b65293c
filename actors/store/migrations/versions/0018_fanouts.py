"""fan-outs queued by the delivery worker a chunk at a time (issue 11)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 18:00:00

``fanouts``: an activity's deliveries still to be queued. A relay to hundreds of inboxes
was one write transaction with the item, holding SQLite's write lock for tens of ms; now the
item's transaction stores the inboxes in rows of 128, and the worker queues a row at a time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fanouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("inboxes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fanouts_community_id", "fanouts", ["community_id"])


def downgrade() -> None:
    op.drop_index("ix_fanouts_community_id", table_name="fanouts")
    op.drop_table("fanouts")
