"""who knows: the people who asked to be left off a community's who-knows page

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 04:50:00

``who_knows_optouts`` holds one row per (community, person) who asked, by a mention or a
direct message to the community, to be left out (actors/whoknows.py); asking to be back in
deletes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "who_knows_optouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.String(length=2048), nullable=False),
        sa.Column("asked_in", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "actor_id"),
    )


def downgrade() -> None:
    op.drop_table("who_knows_optouts")
