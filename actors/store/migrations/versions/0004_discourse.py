"""discourse: the Discourse adapter's post mapping, topic state, cursor and job queue

The tables belong to adapters/discourse (its models.py maps them); they are created here,
with plain table definitions, so one migration chain serves every process and actors never
imports the adapter. They are harmless when the adapter is not enabled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def _community() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "discourse_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("post_number", sa.Integer(), nullable=False),
        sa.Column("object_ap_id", sa.String(length=2048), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        _community(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "post_id"),
        sa.UniqueConstraint("object_ap_id"),
    )
    with op.batch_alter_table("discourse_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_discourse_posts_topic", ["community_id", "topic_id"], unique=False
        )

    op.create_table(
        "discourse_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("object_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("highest_post_number", sa.Integer(), nullable=False),
        sa.Column("bumped_at", sa.String(length=40), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("synced_at", UTC_TIME, nullable=False),
        _community(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "topic_id"),
    )

    op.create_table(
        "discourse_state",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("category_slug", sa.String(length=255), nullable=True),
        sa.Column("backfill_page", sa.Integer(), nullable=False),
        sa.Column("backfill_started_at", UTC_TIME, nullable=True),
        sa.Column("backfill_finished_at", UTC_TIME, nullable=True),
        sa.Column("last_poll_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _community(),
        sa.PrimaryKeyConstraint("community_id"),
    )

    op.create_table(
        "discourse_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("object_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTC_TIME, nullable=False),
        sa.Column("locked_until", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        _community(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("discourse_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_discourse_jobs_due", ["state", "next_try_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_discourse_jobs_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_discourse_jobs_object_ap_id"), ["object_ap_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("discourse_jobs")
    op.drop_table("discourse_state")
    op.drop_table("discourse_topics")
    op.drop_table("discourse_posts")
