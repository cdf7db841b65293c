"""Mirrored items as the community's own: the object row, its details, and the activity.

``fan_out`` decides whether followers get the activity (a delivery per inbox) or only the
outbox records it (a backfilled topic is history, not news).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors import outbound
from actors.community import Community
from actors.content import new_token
from actors.events import detail_row
from actors.store import practice, social
from actors.store.models import ActivityRow, ObjectRow
from actors.urls import Urls
from adapters.discourse.config import ForumConfig
from adapters.discourse.mapping import Item
from adapters.discourse.objects import event_draft
from federation.vocab import JSON

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, forum: ForumConfig, urls: Urls, community: Community) -> None:
        self.forum = forum
        self.urls = urls
        self.community = community

    def new_object_id(self) -> str:
        return self.urls.object(self.community.slug, new_token())

    async def _send(
        self, session: AsyncSession, activity: JSON, object_id: str, *, fan_out: bool
    ) -> None:
        if fan_out:
            await outbound.send_to_followers(session, self.community, activity, object_id=object_id)
        else:  # outbox only: no deliveries need its id, so no flush (inserts batch at commit)
            session.add(
                ActivityRow(
                    ap_id=activity["id"],
                    community_id=self.community.id,
                    ap_type=activity["type"],
                    object_ap_id=object_id,
                    public=True,
                    ap_json=activity,
                )
            )

    async def create(
        self,
        session: AsyncSession,
        obj: JSON,
        *,
        kind: str,
        title: str | None,
        content_html: str,
        published: datetime,
        in_reply_to: str | None = None,
        thread_root: str | None = None,
        item: Item | None = None,
        editor: str = "",
        fan_out: bool,
    ) -> ObjectRow:
        row = ObjectRow(
            ap_id=obj["id"],
            community_id=self.community.id,
            kind=kind,
            ap_type=obj["type"],
            local=True,
            attributed_to=self.urls.community(self.community.slug),
            in_reply_to=in_reply_to,
            thread_root=thread_root,
            title=title[:500] if title else None,
            content_html=content_html,
            source_markdown=item.source_markdown if item else None,
            summary=item.summary if item else None,
            ap_json=obj,
            published=published,
        )
        session.add(row)
        if item is not None and (item.event is not None or item.kind == "practice"):
            await session.flush()  # the details rows need the object's id
            await self._details(session, row, item, editor, created=True)
        await self._send(
            session,
            outbound.build_create(self.urls, self.community, obj),
            row.ap_id,
            fan_out=fan_out,
        )
        return row

    async def update(
        self,
        session: AsyncSession,
        row: ObjectRow,
        obj: JSON,
        *,
        title: str | None,
        content_html: str,
        item: Item | None = None,
        editor: str = "",
        fan_out: bool,
    ) -> None:
        now = datetime.now(UTC)
        row.title = title[:500] if title else None
        row.content_html = content_html
        row.ap_json = obj
        row.updated = now
        if item is not None:
            row.source_markdown = item.source_markdown
            row.summary = item.summary
            await self._details(session, row, item, editor, created=False)
        update = outbound.build_update(self.urls, self.community, obj, now)
        await self._send(session, update, row.ap_id, fan_out=fan_out)

    async def delete(self, session: AsyncSession, object_id: str, *, fan_out: bool) -> None:
        row = await social.get_object(session, object_id)
        if row is None or row.deleted_at is not None:
            return
        row.deleted_at = datetime.now(UTC)
        await social.withdraw_activities(session, row.ap_id)
        delete = outbound.build_delete(self.urls, self.community, row.ap_id, row.ap_type)
        await self._send(session, delete, row.ap_id, fan_out=fan_out)

    async def _details(
        self, session: AsyncSession, row: ObjectRow, item: Item, editor: str, *, created: bool
    ) -> None:
        """The queryable side of events (the calendar, Join) and of practices (history)."""
        if item.event is not None:
            await practice.save_event_detail(session, detail_row(row.id, event_draft(item)))
        if item.kind == "practice":
            row.status = item.status
            note = "posted on the forum" if created else "edited on the forum"
            await practice.add_revision(
                session, row, editor=editor, change_note=note, when=datetime.now(UTC)
            )
