"""listing index: a community's items by kind, newest first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 15:30:00

The community page, its feeds and the members' circles read a community's items of one
kind in order of publication; without this index each of those reads sorts all of the
community's items.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_objects_listing", ["community_id", "kind", "published"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_index("ix_objects_listing")
