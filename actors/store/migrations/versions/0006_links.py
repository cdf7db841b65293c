"""links: communities following remote Groups, the items that came over links, and the
cached ``following`` collections of linked Groups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("remote_actor_id", sa.String(length=2048), nullable=False),
        sa.Column("inbox", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("follow_activity_id", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "remote_actor_id"),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_community_id"), ["community_id"])
        batch_op.create_index(batch_op.f("ix_links_remote_actor_id"), ["remote_actor_id"])
        batch_op.create_index(batch_op.f("ix_links_follow_activity_id"), ["follow_activity_id"])

    op.create_table(
        "link_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("via_actor", sa.String(length=2048), nullable=False),
        sa.Column("origin_group", sa.String(length=2048), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["object_id"], ["objects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "object_id"),
    )
    with op.batch_alter_table("link_items", schema=None) as batch_op:
        batch_op.create_index("ix_link_items_listing", ["community_id", "received_at"])
        batch_op.create_index(batch_op.f("ix_link_items_object_id"), ["object_id"])

    op.create_table(
        "network_cache",
        sa.Column("actor_id", sa.String(length=2048), nullable=False),
        sa.Column("following", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("actor_id"),
    )


def downgrade() -> None:
    op.drop_table("network_cache")
    with op.batch_alter_table("link_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_items_object_id"))
        batch_op.drop_index("ix_link_items_listing")
    op.drop_table("link_items")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_follow_activity_id"))
        batch_op.drop_index(batch_op.f("ix_links_remote_actor_id"))
        batch_op.drop_index(batch_op.f("ix_links_community_id"))
    op.drop_table("links")
