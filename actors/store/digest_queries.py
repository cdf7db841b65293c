"""What a community's digest reads: its items of one period, events coming after it, and
the threads with the most replies in it (``actors.digests.content`` makes the digest)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.community import Community
from actors.content import ItemKind
from actors.digests.content import (
    SHOWN,
    THREADS,
    Digest,
    DigestItem,
    DigestThread,
    EventCandidate,
    excerpt,
    upcoming,
)
from actors.digests.periods import Period
from actors.practices import STATUS_LABELS
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, RevisionRow

_REPLIES = (ItemKind.REPLY, ItemKind.POST)


def _live(community_id: int, *kinds: str) -> tuple[ColumnElement[bool], ...]:
    return (
        ObjectRow.community_id == community_id,
        ObjectRow.kind.in_(kinds),
        ObjectRow.deleted_at.is_(None),
        ObjectRow.members_only.is_(False),
    )


async def _published(
    session: AsyncSession, community_id: int, kind: str, period: Period
) -> list[DigestItem]:
    rows = await session.execute(
        select(
            ObjectRow.ap_id, ObjectRow.title, ObjectRow.summary, ObjectRow.content_html,
            ObjectRow.published, ObjectRow.status,
        )
        .where(
            *_live(community_id, kind),
            ObjectRow.published >= period.start,
            ObjectRow.published < period.end,
        )
        .order_by(ObjectRow.published, ObjectRow.id)
        .limit(SHOWN)
    )  # fmt: skip
    return [
        DigestItem(
            url=r.ap_id,
            title=r.title or kind.title(),
            excerpt=excerpt(r.summary, r.content_html),
            when=r.published,
            note=STATUS_LABELS.get(r.status or "", r.status or ""),
        )
        for r in rows
    ]


async def _revised(session: AsyncSession, community_id: int, period: Period) -> list[DigestItem]:
    """Practices revised in the period (not those first written in it), each once, with
    the note of its last revision in the period."""
    last = (
        select(RevisionRow.object_id, func.max(RevisionRow.number).label("number"))
        .join(ObjectRow, ObjectRow.id == RevisionRow.object_id)
        .where(
            *_live(community_id, ItemKind.PRACTICE),
            ObjectRow.published < period.start,
            RevisionRow.number > 1,
            RevisionRow.created_at >= period.start,
            RevisionRow.created_at < period.end,
        )
        .group_by(RevisionRow.object_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            ObjectRow.ap_id, ObjectRow.title, ObjectRow.summary, ObjectRow.content_html,
            ObjectRow.status, RevisionRow.change_note, RevisionRow.created_at,
        )
        .join(last, last.c.object_id == ObjectRow.id)
        .join(
            RevisionRow,
            (RevisionRow.object_id == ObjectRow.id) & (RevisionRow.number == last.c.number),
        )
        .order_by(RevisionRow.created_at, ObjectRow.id)
        .limit(SHOWN)
    )  # fmt: skip
    return [
        DigestItem(
            url=r.ap_id,
            title=r.title or "Practice",
            excerpt=excerpt(r.summary, r.content_html),
            when=r.created_at,
            note=r.change_note or "",
        )
        for r in rows
    ]


async def _threads(session: AsyncSession, community_id: int, period: Period) -> list[DigestThread]:
    root = aliased(ObjectRow)
    replies = func.count(ObjectRow.id).label("replies")
    rows = await session.execute(
        select(root.ap_id, root.title, root.summary, root.content_html, replies)
        .join(root, root.ap_id == ObjectRow.thread_root)
        .where(
            *_live(community_id, *_REPLIES),
            ObjectRow.in_reply_to.is_not(None),
            ObjectRow.published >= period.start,
            ObjectRow.published < period.end,
            root.deleted_at.is_(None),
        )
        .group_by(root.id, root.ap_id, root.title, root.summary, root.content_html)
        .order_by(replies.desc(), root.id)
        .limit(THREADS)
    )
    return [
        DigestThread(
            url=r.ap_id,
            title=r.title or excerpt(r.summary, r.content_html) or "A conversation",
            replies=int(r.replies),
        )
        for r in rows
    ]


async def _event_candidates(
    session: AsyncSession, community_id: int, period: Period
) -> list[EventCandidate]:
    """Events that may meet after the period: one-offs starting after it (the soonest),
    and recurring ones (the latest started first)."""
    base = select(
        ObjectRow.ap_id, ObjectRow.title, EventDetailRow.start_time, EventDetailRow.end_time,
        EventDetailRow.timezone, EventDetailRow.rrule, EventDetailRow.location_name,
        EventDetailRow.online_url,
    ).join_from(ObjectRow, EventDetailRow, EventDetailRow.object_id == ObjectRow.id)  # fmt: skip
    base = base.where(*_live(community_id, ItemKind.EVENT))
    queries = (
        base.where(EventDetailRow.rrule.is_(None), EventDetailRow.start_time >= period.end)
        .order_by(EventDetailRow.start_time, ObjectRow.id)
        .limit(SHOWN),
        base.where(EventDetailRow.rrule.is_not(None))
        .order_by(EventDetailRow.start_time.desc(), ObjectRow.id)
        .limit(10 * SHOWN),
    )
    found = []
    for query in queries:
        for r in await session.execute(query):
            place = r.location_name or ("Online" if r.online_url else "")
            found.append(
                EventCandidate(
                    r.ap_id, r.title, r.start_time, r.end_time, r.timezone, r.rrule, place
                )
            )
    return found


async def digest_of(
    session: AsyncSession, community: Community, community_url: str, period: Period
) -> Digest:
    """The digest of ``community`` for ``period``."""
    cid = community.id
    return Digest(
        community_slug=community.slug,
        community_name=community.name,
        community_url=community_url,
        period=period,
        new_practices=tuple(await _published(session, cid, ItemKind.PRACTICE, period)),
        revised_practices=tuple(await _revised(session, cid, period)),
        stories=tuple(await _published(session, cid, ItemKind.STORY, period)),
        events=upcoming(await _event_candidates(session, cid, period), period),
        threads=tuple(await _threads(session, cid, period)),
    )
