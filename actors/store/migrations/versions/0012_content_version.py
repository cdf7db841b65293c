"""content version: a counter per community, bumped by every write a page shows

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:00:00

Pages, actor documents, collections and feeds answer ``304 Not Modified`` and are served
from a render cache while a community's ``content_version`` stays the same
(actors/store/versions.py bumps it in the transaction of each such write).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("content_changed_at", UTC_TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("content_changed_at")
        batch_op.drop_column("content_version")
