"""Adding or removing a coordinator is told to the followers as Lemmy tells it:
``Add``/``Remove`` of the person to the community's ``moderators`` collection,
announced by the community, once; the moderation log has a line for each."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.accounts import coordinators
from actors.accounts.model import COORDINATOR
from actors.store import accounts
from actors.store.models import ActivityRow
from actors.store.models_moderation import ModAction, ModlogRow
from actors.urls import Urls
from tests import factories
from tests.flows.copub import Copub
from tests.flows.remote import Person, RemoteServer
from tests.moderation.test_removals import SLUG
from tests.moderation.wire import (
    announced,
    assert_lemmy_shape,
    lemmy,
    log_lines,
    moderation_actor,
)


async def test_a_coordinator_added_and_removed_is_announced_once(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    dan = "https://social.example/users/dan"
    group, collection = copub.actor(SLUG), copub.urls.community_moderators(SLUG)
    moderation = moderation_actor(group)  # the actor Lemmy takes moderators' changes from
    # When the operator makes dan a coordinator, twice
    await copub.cli("moderators", "add", SLUG, dan)
    assert "nothing changed" in await copub.cli("moderators", "add", SLUG, dan)
    # Then alice (a follower) gets Lemmy's Add to the moderators collection, announced, once
    [added] = await remote.wait_for(announced("Add", dan))
    assert added.signer == group
    add = added.activity["object"]
    assert (add["actor"], add["object"], add["target"]) == (moderation, dan, collection)
    assert_lemmy_shape(add, lemmy("add-mod"), group)
    # And the collection lists him
    status, listed = await copub.get(collection)
    assert status == 200
    assert dan in listed["orderedItems"]
    # When he is removed
    await copub.cli("moderators", "remove", SLUG, dan)
    # Then alice gets the Remove from the collection
    [removed] = await remote.wait_for(announced("Remove", dan))
    remove = removed.activity["object"]
    assert (remove["actor"], remove["object"], remove["target"]) == (moderation, dan, collection)
    assert_lemmy_shape(remove, lemmy("remove-mod"), group)
    # And removing him again fails, sending nothing
    await copub.cli("moderators", "remove", SLUG, dan, ok=False)
    assert len(await copub.sent("Announce", dan)) == 2
    assert len(announced("Add", dan)(remote.received)) == 1
    # And the log has one line for each change
    assert await log_lines(copub) == [
        (ModAction.COORDINATOR_ADDED, dan, "", "operator"),
        (ModAction.COORDINATOR_REMOVED, dan, "", "operator"),
    ]


async def test_a_console_coordinator_changing_accounts_is_announced(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given an account coordinating nightshift as ann
    community = await factories.create_community(sessions)
    urls = Urls(factories.BASE_URL)
    ann, bea = "https://social.example/users/ann", "https://social.example/users/bea"
    async with sessions.begin() as session:
        row = await accounts.add_account(session, "ann", COORDINATOR)
        row.actor_url = ann
        by = coordinators.moderator(row)
        await coordinators.give_community(session, urls, row, community.id, by=by)
    # When she links another fediverse account to it, then stops coordinating
    async with sessions.begin() as session:
        row = await accounts.get_account(session, row.id)
        assert row is not None
        await coordinators.link_actor(session, urls, row, bea)
        await coordinators.take_community(session, urls, row, community.id, by=by)
    # Then the community sent Add ann, Remove ann, Add bea, Remove bea, each announced
    async with sessions() as session:
        sent = list(
            await session.scalars(
                select(ActivityRow.ap_json)
                .where(ActivityRow.ap_type == "Announce")
                .order_by(ActivityRow.id)
            )
        )
    told = [(a["object"]["type"], a["object"]["object"]) for a in sent]
    assert told == [("Add", ann), ("Remove", ann), ("Add", bea), ("Remove", bea)]
    # And the log names who did it
    async with sessions() as session:
        names = set(await session.scalars(select(ModlogRow.moderator)))
    assert names == {"ann"}
