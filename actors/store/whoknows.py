"""Queries of "who knows about what" (actors/whoknows.py): a community's practices, who took
part in each in public, and who asked to be left out."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, or_, select

from actors.content import ItemKind
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_practice import RevisionRow
from actors.store.models_whoknows import WhoKnowsOptOutRow
from actors.whoknows import Contribution, Role

MAX_PRACTICES = 500
MAX_REPLIES = 5000


async def practices(session: AsyncSession, community_id: int) -> list[ObjectRow]:
    """The community's live practices, newest first (bounded)."""
    rows = await session.scalars(
        select(ObjectRow)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind == ItemKind.PRACTICE,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
        .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
        .limit(MAX_PRACTICES)
    )
    return list(rows)


def _person(actor: str | None, community_actor: str) -> bool:
    """A member (a remote person), not the community itself nor a coordinator's name."""
    return (
        bool(actor) and actor != community_actor and str(actor).startswith(("https://", "http://"))
    )


async def contributions(
    session: AsyncSession, community_id: int, community_actor: str, rows: Sequence[ObjectRow]
) -> list[Contribution]:
    """Who wrote each practice (a member's post filed as one), revised it, or replied in
    its thread here: public posts the community holds, not deleted or removed."""
    found: list[Contribution] = []
    by_id = {row.id: row.ap_id for row in rows}
    authors = {row.id: row.attributed_to for row in rows}
    for row in rows:
        if not row.local and _person(row.attributed_to, community_actor):
            found.append(Contribution(row.attributed_to, row.ap_id, Role.WROTE))
    if not rows:
        return found
    revisions = await session.execute(
        select(RevisionRow.object_id, RevisionRow.editor, RevisionRow.number).where(
            RevisionRow.object_id.in_(list(by_id))
        )
    )
    for object_id, editor, number in revisions:
        if number == 1 and editor == authors[object_id]:
            continue  # the first text of the author's own post: written, not revised
        if _person(editor, community_actor):
            found.append(Contribution(editor, by_id[object_id], Role.REVISED))
    ap_ids = list(by_id.values())
    replies = await session.execute(
        select(ObjectRow.attributed_to, ObjectRow.thread_root, ObjectRow.in_reply_to)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind.in_((ItemKind.REPLY, ItemKind.POST)),
            ObjectRow.local.is_(False),
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
            or_(ObjectRow.thread_root.in_(ap_ids), ObjectRow.in_reply_to.in_(ap_ids)),
        )
        .limit(MAX_REPLIES)
    )
    wanted = set(ap_ids)
    for author, root, parent in replies:
        practice = root if root in wanted else parent
        if practice is not None and _person(author, community_actor):
            found.append(Contribution(author, practice, Role.DISCUSSED))
    return found


async def left_out(session: AsyncSession, community_id: int) -> set[str]:
    rows = await session.scalars(
        select(WhoKnowsOptOutRow.actor_id).where(WhoKnowsOptOutRow.community_id == community_id)
    )
    return set(rows)


async def leave_out(session: AsyncSession, community_id: int, actor: str, asked_in: str) -> bool:
    """Leave ``actor`` off the page; False if they already were."""
    found = await session.scalar(
        select(WhoKnowsOptOutRow.id).where(
            WhoKnowsOptOutRow.community_id == community_id, WhoKnowsOptOutRow.actor_id == actor
        )
    )
    if found is not None:
        return False
    session.add(WhoKnowsOptOutRow(community_id=community_id, actor_id=actor, asked_in=asked_in))
    return True


async def put_back(session: AsyncSession, community_id: int, actor: str) -> bool:
    """Show ``actor`` again; False if they were not left out."""
    result = await session.execute(
        delete(WhoKnowsOptOutRow).where(
            WhoKnowsOptOutRow.community_id == community_id, WhoKnowsOptOutRow.actor_id == actor
        )
    )
    return bool(getattr(result, "rowcount", 0))
