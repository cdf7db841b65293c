"""The real app (``aiohttp_client``) for the held-posts tests, its inbox processor and
delivery worker not running on their own: a Mastodon-like peer (tests/flows/remote.py)
sends a signed ``Create`` into the shared inbox and the test runs the processor itself
(``Inbound.process``), so what was relayed or held is settled when ``post`` returns.

``Inbound.outcome`` says what became of a post in a community: ``relayed`` (stored and
announced), ``held`` (waiting in the queue), ``rejected``/``approved`` (decided, not
stored yet), or ``refused`` (neither stored nor held)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.settings import Settings
from actors.store import queries, social
from actors.store.models import ActivityRow, DeliveryRow, InboxItemRow, ObjectRow, RemoteActorRow
from actors.store.models_moderation import HeldPostRow
from actors.urls import Urls
from actors.web.keys import INBOX_PROCESSOR, SESSIONS, URLS
from federation.vocab import JSON
from tests import factories
from tests.console.helpers import FAST_HASHING
from tests.flows import mastodon
from tests.flows.remote import Person, RemoteServer

Sessions = async_sessionmaker[AsyncSession]


def inbound_settings(database_url: str) -> Settings:
    """The console's test settings; the inbox stores what comes and the test applies it;
    nothing is delivered (deliveries stay queued, to be counted)."""
    return factories.make_settings(
        database_url,
        console=FAST_HASHING,
        inbox={"in_process": False},
        delivery={"in_process_worker": False},
    )


@dataclass
class Inbound:
    client: TestClient[Any, Any]
    peer: RemoteServer

    @property
    def sessions(self) -> Sessions:
        return self.client.app[SESSIONS]  # type: ignore[no-any-return]

    @property
    def urls(self) -> Urls:
        return self.client.app[URLS]  # type: ignore[no-any-return]

    async def process(self) -> int:
        """Apply every stored inbox item (the processor's own loop, run here)."""
        processor = self.client.app[INBOX_PROCESSOR]
        done = 0
        while count := await processor.run_once():
            done += count
        return done

    def note(self, author: Person, text: str, *, slug: str = "nightshift", link: str = "") -> JSON:
        """A public Note by ``author`` mentioning the community (``link``: a link in it)."""
        mention = (self.urls.community(slug), self.urls.handle(slug))
        note = self.peer.note(author, text, mention=mention)
        if link:
            note["content"] = note["content"].replace("</p>", f' <a href="{link}">{link}</a></p>')
        return note

    async def send(self, author: Person, note: JSON) -> JSON:
        """``author``'s signed Create of ``note`` into the shared inbox (202), applied."""
        create = mastodon.create(author, note)
        status, answer = await self.peer.post(author, str(self.client.make_url("/inbox")), create)
        assert status == 202, answer
        await self.process()
        return create

    async def post(self, author: Person, text: str, *, slug: str = "nightshift", link: str = ""
                   ) -> JSON:  # fmt: skip
        """A new Note sent and applied; returns the Note."""
        note = self.note(author, text, slug=slug, link=link)
        await self.send(author, note)
        return note

    # -- what became of it ------------------------------------------------------------------

    async def outcome(self, community: Community, note: JSON) -> str:
        async with self.sessions() as session:
            stored = await session.scalar(
                select(ObjectRow.community_id).where(ObjectRow.ap_id == note["id"])
            )
            if stored == community.id:
                return "relayed"
            hold = await session.scalar(
                select(HeldPostRow.state).where(
                    HeldPostRow.community_id == community.id, HeldPostRow.object_ap_id == note["id"]
                )
            )
        return str(hold) if hold is not None else "refused"

    async def reason(self, community: Community, note: JSON) -> str:
        async with self.sessions() as session:
            found = await session.scalar(
                select(HeldPostRow.reason).where(
                    HeldPostRow.community_id == community.id, HeldPostRow.object_ap_id == note["id"]
                )
            )
        return found or ""

    async def announces(self, note: JSON) -> int:
        """Announces the communities queued of this post (its Create, and the post)."""
        return await self._count(
            select(func.count())
            .select_from(ActivityRow)
            .where(ActivityRow.ap_type == "Announce", ActivityRow.object_ap_id == note["id"])
        )

    async def deliveries(self, activity_type: str) -> int:
        return await self._count(
            select(func.count())
            .select_from(DeliveryRow)
            .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
            .where(ActivityRow.ap_type == activity_type)
        )

    async def inbox_items(self, create: JSON) -> list[str]:
        """States of the inbox items of this activity, the oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(InboxItemRow.state)
                .where(InboxItemRow.activity_id == create["id"])
                .order_by(InboxItemRow.id)
            )
            return [str(state) for state in rows]

    async def _count(self, statement: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(statement) or 0)

    # -- who is who -------------------------------------------------------------------------

    async def knows(self, *people: Person) -> None:
        """The server has fetched ``people``'s actors (it knows their inboxes)."""
        async with self.sessions.begin() as session:
            for who in people:
                await social.upsert_remote_actor(session, remote_actor(who))

    async def follows(self, community: Community, *people: Person) -> None:
        """``people`` are accepted followers of the (open) community."""
        async with self.sessions.begin() as session:
            for who in people:
                row = await social.upsert_remote_actor(session, remote_actor(who))
                await social.record_follow(
                    session, community.id, row, f"{who.id}/follows/{community.slug}", closed=False
                )

    async def coordinates(self, community: Community, who: Person) -> None:
        async with self.sessions.begin() as session:
            await queries.add_moderator(session, community.id, who.id)


def remote_actor(who: Person) -> RemoteActorRow:
    return RemoteActorRow(
        ap_id=who.id,
        inbox=who.inbox,
        shared_inbox=None,
        handle=f"{who.name}@{who.base_url.split('://', 1)[1]}",
        name=who.name.title(),
        url=f"{who.base_url}/@{who.name}",
        actor_type="Person",
        ap_json=who.document(),
        fetched_at=datetime.now(UTC),
    )
