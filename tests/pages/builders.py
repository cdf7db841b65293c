"""Rows for page, feed and member tests, written straight to the database.

Practices and events are stored the way the content kinds store them (``objects`` with
``kind`` practice/event, ``revisions``, ``event_details``, ``event_participants``), so the
pages are tested on their own, whatever publishes the rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.html import markdown_to_html, sanitize
from actors.store.models import FollowerRow, ModeratorRow, ObjectRow, RemoteActorRow
from actors.store.models_practice import EventDetailRow, ParticipantRow, RevisionRow
from actors.urls import Urls
from tests import factories

URLS = Urls(factories.BASE_URL)
_ids = itertools.count(1)
Sessions = async_sessionmaker[AsyncSession]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _oid(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def local_object(
    community: Community, kind: str, ap_type: str, *, title: str, markdown: str = "",
    published: datetime | None = None, urls: Urls = URLS, **columns: Any,
) -> ObjectRow:  # fmt: skip
    oid = _oid(kind[0])
    url = urls.object(community.slug, oid)
    published = published or now()
    return ObjectRow(
        ap_id=url,
        community_id=community.id,
        kind=kind,
        ap_type=ap_type,
        local=True,
        attributed_to=urls.community(community.slug),
        title=title,
        content_html=markdown_to_html(markdown),
        source_markdown=markdown,
        ap_json={"id": url, "type": ap_type, "name": title},
        published=published,
        **columns,
    )


async def add_story(
    sessions: Sessions, community: Community, title: str, markdown: str = "Text.", **kw: Any
) -> ObjectRow:
    row = local_object(community, "story", "Note", title=title, markdown=markdown, **kw)
    async with sessions.begin() as session:
        session.add(row)
    return row


@dataclass
class Version:
    markdown: str
    title: str | None = None
    status: str | None = None
    summary: str | None = None
    note: str | None = None
    editor: str = "https://cop.test/c/nightshift"
    at: datetime | None = None


async def add_practice(
    sessions: Sessions, community: Community, title: str, versions: list[Version], **kw: Any
) -> ObjectRow:
    """A practice and its revisions (the last version is the current text)."""
    last = versions[-1]
    first_at = versions[0].at or now() - timedelta(days=len(versions))
    row = local_object(
        community, "practice", "Article", title=last.title or title, markdown=last.markdown,
        status=last.status, summary=last.summary, published=first_at,
        updated=(last.at or now()) if len(versions) > 1 else None, **kw,
    )  # fmt: skip
    async with sessions.begin() as session:
        session.add(row)
        await session.flush()
        for number, v in enumerate(versions, start=1):
            session.add(
                RevisionRow(
                    object_id=row.id, number=number, editor=v.editor, title=v.title or title,
                    summary=v.summary, source_markdown=v.markdown, status=v.status,
                    change_note=v.note, created_at=v.at or first_at + timedelta(hours=number),
                )
            )  # fmt: skip
    return row


@dataclass
class EventSpec:
    title: str
    start: datetime
    end: datetime | None = None
    timezone: str = "UTC"
    rrule: str | None = None
    location: str | None = None
    online_url: str | None = None
    markdown: str = "Let us meet."
    capacity: int | None = None
    participants: list[tuple[str, datetime | None]] = field(default_factory=list)


async def add_event(
    sessions: Sessions, community: Community, spec: EventSpec, *, urls: Urls = URLS
) -> ObjectRow:
    row = local_object(
        community, "event", "Event", title=spec.title, markdown=spec.markdown, urls=urls
    )
    async with sessions.begin() as session:
        session.add(row)
        await session.flush()
        session.add(
            EventDetailRow(
                object_id=row.id, start_time=spec.start, end_time=spec.end,
                timezone=spec.timezone, rrule=spec.rrule, location_name=spec.location,
                online_url=spec.online_url, capacity=spec.capacity,
            )
        )  # fmt: skip
        for actor, joined_at in spec.participants:
            session.add(
                ParticipantRow(
                    object_id=row.id, actor_id=actor, join_activity_id=f"{actor}#join{row.id}",
                    created_at=joined_at or now(),
                )
            )  # fmt: skip
    return row


def actor_url(name: str, host: str = "social.example") -> str:
    return f"https://{host}/users/{name}"


async def add_remote_actor(
    sessions: Sessions, actor: str, *, name: str | None = None, handle: str | None = None
) -> None:
    async with sessions.begin() as session:
        session.add(
            RemoteActorRow(
                ap_id=actor, inbox=actor + "/inbox", name=name, handle=handle,
                url=actor.replace("/users/", "/@"),
            )
        )  # fmt: skip


async def add_follower(
    sessions: Sessions, community: Community, actor: str, state: str = "accepted"
) -> None:
    async with sessions.begin() as session:
        session.add(
            FollowerRow(
                community_id=community.id, actor_id=actor, inbox=actor + "/inbox", state=state,
                follow_activity_id=actor + "#follow",
            )
        )  # fmt: skip


async def add_post(
    sessions: Sessions, community: Community, actor: str, *, html: str = "<p>Hello</p>",
    published: datetime | None = None, reply_to: str | None = None, deleted: bool = False,
) -> ObjectRow:  # fmt: skip
    url = f"{actor}/statuses/{next(_ids)}"
    row = ObjectRow(
        ap_id=url, community_id=community.id, kind="reply" if reply_to else "post",
        ap_type="Note", local=False, attributed_to=actor, in_reply_to=reply_to,
        content_html=sanitize(html), ap_json={"id": url, "type": "Note"},
        published=published or now(), deleted_at=now() if deleted else None,
    )  # fmt: skip
    async with sessions.begin() as session:
        session.add(row)
    return row


async def add_moderator(sessions: Sessions, community: Community, actor: str) -> None:
    async with sessions.begin() as session:
        session.add(ModeratorRow(community_id=community.id, actor_id=actor))
