"""inbox items stored once per (signer's origin, activity id); lease holders

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 10:00:00

An inbox item was unique by its activity id alone, so a server could take another's ids
(activity-id squatting). It is now unique by ``dedupe_key``: the sha256 of the origin of the
key that signed it and the activity id. Existing rows get the key of their actor's origin
(the signer's, for every item accepted so far).

``locked_by`` names the process holding an inbox item's or a delivery's lease, so a process
starting up can take back at once what a dead one held (actors.store.holders).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000
# SQLite reflects the old unique constraint without a name; batch mode names it so
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _dedupe_key(signer: str, activity_id: str) -> str:
    """A frozen copy of federation.inbox.dedupe_key as of this revision (a migration must not
    change when the code does)."""
    try:
        parts = urlsplit(signer)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        where = f"{scheme}://{(parts.hostname or '').lower()}:{port}"
    except ValueError:
        where = signer
    return hashlib.sha256(f"{where} {activity_id}".encode()).hexdigest()


def _fill_keys() -> None:
    bind = op.get_bind()
    items = sa.table(
        "inbox_items",
        sa.column("id", sa.Integer()),
        sa.column("actor_id", sa.String()),
        sa.column("activity_id", sa.String()),
        sa.column("dedupe_key", sa.String()),
    )
    set_key = (
        sa.update(items)
        .where(items.c.id == sa.bindparam("b_id"))
        .values(dedupe_key=sa.bindparam("b_key"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items.c.id, items.c.actor_id, items.c.activity_id)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            set_key,
            [{"b_id": i, "b_key": _dedupe_key(actor, activity)} for i, actor, activity in rows],
        )
        last = rows[-1][0]


def _activity_id_unique() -> str:
    """The name of the old unique constraint on inbox_items.activity_id."""
    for unique in sa.inspect(op.get_bind()).get_unique_constraints("inbox_items"):
        if unique["column_names"] == ["activity_id"] and unique["name"]:
            return str(unique["name"])
    return "uq_inbox_items_activity_id"


def upgrade() -> None:
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("locked_by", sa.Integer(), nullable=True))
    _fill_keys()
    old_unique = _activity_id_unique()
    with op.batch_alter_table("inbox_items", schema=None, naming_convention=NAMES) as batch_op:
        batch_op.alter_column("dedupe_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(old_unique, type_="unique")
        batch_op.create_unique_constraint("uq_inbox_items_dedupe_key", ["dedupe_key"])
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("locked_by")
    # one row per activity id again: the first one received wins
    op.execute(
        "DELETE FROM inbox_items WHERE id NOT IN "
        "(SELECT MIN(id) FROM inbox_items GROUP BY activity_id)"
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbox_items_dedupe_key", type_="unique")
        batch_op.create_unique_constraint("inbox_items_activity_id_key", ["activity_id"])
        batch_op.drop_column("locked_by")
        batch_op.drop_column("dedupe_key")
