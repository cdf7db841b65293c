"""items kept for members after a members-only community goes public (issue 18)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 05:10:00

``objects.members_only``: an item of a community that was members-only when it went
public or closed; it stays for the community's approved followers and coordinators only
(actors/members.py). ``communities.gated_items``: the community has such items (the
fetch gate, actors/web/members_gate.py, looks an item up only then);
``communities.members_until``: its last follower row at the switch (who follows later,
as anyone may once it is public, is not a member of those items).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.add_column(
            sa.Column("members_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column("gated_items", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("members_until", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("members_until")
        batch.drop_column("gated_items")
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("members_only")
