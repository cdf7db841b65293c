"""value creation: value-creation stories' claims, coordinators' indicators, and linked
communities' value collections

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:40:00

``value_stories`` holds the cycle, what changed, for whom and the items it is about of each
stored item told as a value-creation story; ``value_indicators`` what coordinators record
per cycle; ``value_cache`` what linked communities publish of theirs (actors/values.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "value_stories",
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("changed", sa.Text(), nullable=False),
        sa.Column("for_whom", sa.String(length=200), nullable=False),
        sa.Column("about", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["object_id"], ["objects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("object_id"),
    )
    with op.batch_alter_table("value_stories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_value_stories_cycle"), ["cycle"])
    op.create_table(
        "value_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("value_indicators", schema=None) as batch_op:
        batch_op.create_index("ix_value_indicators_listing", ["community_id", "cycle", "on_date"])
    op.create_table(
        "value_cache",
        sa.Column("actor_id", sa.String(length=2048), nullable=False),
        sa.Column("stories", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("actor_id"),
    )


def downgrade() -> None:
    op.drop_table("value_cache")
    with op.batch_alter_table("value_indicators", schema=None) as batch_op:
        batch_op.drop_index("ix_value_indicators_listing")
    op.drop_table("value_indicators")
    with op.batch_alter_table("value_stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_value_stories_cycle"))
    op.drop_table("value_stories")
