"""Attack class: one message that takes long to process stalls the inbox.

A signed ~1 MiB ``Create`` once kept the inbox processor busy for 14.6 s inside its write
transaction, and on SQLite every write of the process (the inbox's own included) queues on
one lock: a Follow behind it waited 13.8 s for its 202. However long an item takes to
decide what to do, storing another request and answering 202 does not wait for it: a
handler's transaction takes the write lock at its first write, not when it begins.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from actors.inbound.context import InboundContext
from actors.store.models import CommunityRow
from actors.web.keys import INBOX_PROCESSOR
from federation.vocab import AS_CONTEXT, JSON
from tests.flows.copub import Copub
from tests.flows.remote import RemoteServer
from tests.flows.test_follow import accepted_follow

PATIENCE = 10.0  # seconds the Follow may take before the test fails (it takes milliseconds)


async def test_a_follow_gets_its_202_while_another_item_is_being_processed(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given an item whose handler is deciding (reading) in its transaction, for as long as
    # the test wants: as the 26,263 audience lookups of the huge Create once did
    deciding, done_deciding = asyncio.Event(), asyncio.Event()

    async def slow(ctx: InboundContext, activity: JSON) -> None:
        async with ctx.write() as session:
            await session.scalar(select(func.count()).select_from(CommunityRow))
            deciding.set()
            await done_deciding.wait()

    copub.app[INBOX_PROCESSOR].router.on("Ponder", slow)  # a type no real handler takes
    alice = remote.person("alice")
    ponder = {"@context": AS_CONTEXT, "id": f"{alice.id}#ponder/1", "type": "Ponder",
              "actor": alice.id, "object": community}  # fmt: skip
    status, answer = await remote.post(alice, copub.shared_inbox, ponder)
    assert status == 202, answer
    try:
        async with asyncio.timeout(PATIENCE):
            await deciding.wait()
        # When a new sender follows the community meanwhile
        bob = remote.person("bob")
        async with asyncio.timeout(PATIENCE):
            follow = await remote.send_follow(bob, copub.inbox("nightshift"), community)
        # Then its 202 came while the other item was still being processed
        assert await copub.inbox_items(ponder["id"]) == ["pending"]
        assert await copub.inbox_items(follow["id"]) == ["pending"]
    finally:
        done_deciding.set()
    # And once that item is done, the Follow is applied too
    await copub.processed(ponder["id"])
    await remote.wait_for(accepted_follow("Accept", follow))
