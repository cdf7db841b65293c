"""The inbox processor applies what it claims in one transaction per batch
(actors/inbound/batch.py), and it must still behave as if each item had its own: an item
sees what the items before it wrote (remembered reads forgotten on a write), an item that
raises leaves the others applied once and its failure recorded, and no fetch is made
holding the batch's writes (a lookup's own write would wait for them)."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.inbound import build_router
from actors.inbound.context import InboundContext
from actors.inbound.processor import InboxProcessor
from actors.store import social
from actors.store.db import is_sqlite
from actors.store.inbox_queue import InboxWriter
from actors.store.models import BlockRow, FollowerRow, InboxItemRow, RemoteActorRow
from actors.store.states import InboxState
from federation.errors import FetchError
from federation.inbox import AcceptedActivity
from federation.routing import ActivityRouter
from federation.vocab import JSON
from tests import factories
from tests.delivery.inboxes import URLS

Sessions = async_sessionmaker[AsyncSession]
PEER = "https://peer.example"


async def _no_actor(iri: str, _community: Community | None) -> RemoteActorRow:
    raise AssertionError(f"nothing is looked up here ({iri})")


class Handlers:
    """Block: blocks its object server-wide; Check: notes whether its object is blocked;
    Fail: raises; Fetch: fetches its object."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.applied: list[str] = []

    async def block(self, ctx: InboundContext, activity: JSON) -> None:
        self.applied.append(activity["id"])
        async with ctx.write() as session:
            await social.add_block(session, None, "actor", activity["object"])

    async def check(self, ctx: InboundContext, activity: JSON) -> None:
        async with ctx.read() as session:
            blocked = await social.is_blocked(session, None, activity["object"])
        self.seen.append((activity["object"], blocked))

    async def fail(self, _ctx: InboundContext, _activity: JSON) -> None:
        raise FetchError("peer.example is down")

    async def fetch(self, ctx: InboundContext, activity: JSON) -> None:
        await ctx.fetch_object(activity["object"], None)

    def router(self) -> ActivityRouter[InboundContext]:
        router: ActivityRouter[InboundContext] = ActivityRouter()
        for verb, handler in (("Block", self.block), ("Check", self.check),
                              ("Fail", self.fail), ("Fetch", self.fetch)):  # fmt: skip
            router.on(verb, handler)
        return router


async def _queue(sessions: Sessions, database_url: str, *activities: tuple[str, str]) -> None:
    writer = InboxWriter(sessions, postgresql=not is_sqlite(database_url))
    for n, (verb, obj) in enumerate(activities):
        activity = {"id": f"{PEER}/a/{n}", "type": verb, "actor": f"{PEER}/u", "object": obj}
        body = json.dumps(activity).encode()
        await writer.store(AcceptedActivity.of(activity, body, activity["actor"]), None)


def _processor(
    sessions: Sessions, database_url: str, handlers: Handlers, fetch: object = None
) -> InboxProcessor:
    async def no_object(iri: str, _community: Community | None) -> JSON:
        raise AssertionError(f"nothing is fetched here ({iri})")

    return InboxProcessor(
        urls=URLS,
        sessions=sessions,
        router=handlers.router(),
        lookup_actor=_no_actor,
        fetch_object=fetch or no_object,  # type: ignore[arg-type]
        skip_locked=not is_sqlite(database_url),
    )


async def _states(sessions: Sessions) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(
            select(InboxItemRow.state, InboxItemRow.attempts).order_by(InboxItemRow.id)
        )
        return [(str(state), attempts) for state, attempts in rows]


async def _blocks(sessions: Sessions, value: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(BlockRow).where(BlockRow.value == value)
            )
            or 0
        )


async def test_an_item_sees_what_the_items_before_it_wrote(
    sessions: Sessions, database_url: str
) -> None:
    handlers = Handlers()
    sam = f"{PEER}/sam"
    await _queue(sessions, database_url, ("Check", sam), ("Block", sam), ("Check", sam))
    assert await _processor(sessions, database_url, handlers).run_once() == 3
    assert handlers.seen == [(sam, False), (sam, True)]  # the remembered blocks forgotten
    assert await _states(sessions) == [("done", 0)] * 3
    assert await _blocks(sessions, sam) == 1


async def test_an_item_that_raises_leaves_the_others_applied_once(
    sessions: Sessions, database_url: str
) -> None:
    handlers = Handlers()
    ann, bob = f"{PEER}/ann", f"{PEER}/bob"
    await _queue(sessions, database_url, ("Block", ann), ("Fail", ""), ("Block", bob))
    assert await _processor(sessions, database_url, handlers).run_once() == 3
    assert await _states(sessions) == [("done", 0), (InboxState.PENDING, 1), ("done", 0)]
    assert (await _blocks(sessions, ann), await _blocks(sessions, bob)) == (1, 1)
    # ann's Block was rolled back with the failure and applied again alone
    assert handlers.applied == [f"{PEER}/a/0", f"{PEER}/a/0", f"{PEER}/a/2"]


async def test_a_fetch_is_made_after_the_batch_commits(
    sessions: Sessions, database_url: str
) -> None:
    handlers = Handlers()
    ann = f"{PEER}/ann"
    seen: list[int] = []

    async def fetch(iri: str, _community: Community | None) -> JSON:
        seen.append(await _blocks(sessions, ann))  # committed: another session sees it
        async with asyncio.timeout(5):  # a write of its own does not wait for the batch
            async with sessions.begin() as session:
                await social.add_block(session, None, "domain", "elsewhere.example")
        return {"id": iri}

    await _queue(sessions, database_url, ("Block", ann), ("Fetch", f"{PEER}/n/1"))
    assert await _processor(sessions, database_url, handlers, fetch).run_once() == 2
    assert seen == [1]
    assert await _states(sessions) == [("done", 0)] * 2


async def test_the_follows_of_a_batch_are_looked_up_together_first(
    sessions: Sessions, database_url: str
) -> None:
    """Each Follow's actor is looked up before the batch's transaction, all at once (both
    lookups are under way together here), on the community's behalf; the handlers then
    accept the followers."""
    community = await factories.create_community(sessions)
    target = URLS.community(community.slug)
    writer = InboxWriter(sessions, postgresql=not is_sqlite(database_url))
    actors = [f"{PEER}/ann", f"{PEER}/bob"]
    for n, actor in enumerate(actors):
        follow = {"id": f"{PEER}/f/{n}", "type": "Follow", "actor": actor, "object": target}
        body = json.dumps(follow).encode()
        await writer.store(AcceptedActivity.of(follow, body, actor), None)
    started: list[str] = []
    both = asyncio.Event()

    async def lookup(actor_id: str, on_behalf: Community | None) -> RemoteActorRow:
        assert on_behalf is not None
        assert on_behalf.slug == community.slug
        if actor_id not in started:
            started.append(actor_id)
            if len(started) == len(actors):
                both.set()
            async with asyncio.timeout(5):
                await both.wait()
        return RemoteActorRow(ap_id=actor_id, inbox=actor_id + "/inbox")

    processor = InboxProcessor(
        urls=URLS,
        sessions=sessions,
        router=build_router(),
        lookup_actor=lookup,
        fetch_object=lambda iri, _c: _no_object(iri),
        skip_locked=not is_sqlite(database_url),
    )
    assert await processor.run_once() == 2
    assert started == actors
    assert await _states(sessions) == [("done", 0)] * 2
    async with sessions() as session:
        followers = await session.scalars(select(FollowerRow.actor_id).order_by(FollowerRow.id))
        assert list(followers) == actors


async def _no_object(iri: str) -> JSON:
    raise AssertionError(f"nothing is fetched here ({iri})")
