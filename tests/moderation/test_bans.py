"""A coordinator bans an actor from the community and lifts the ban:
Lemmy's ``Block`` with the community as target, announced to the followers and sent to
the banned actor; their later posts are not relayed; their earlier ones can be removed in
the same step."""

from __future__ import annotations

from actors.store.models_moderation import ModAction
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces
from tests.moderation.test_removals import SLUG, _carol, _page, _relayed
from tests.moderation.wire import (
    announced,
    assert_lemmy_shape,
    lemmy,
    log_lines,
    moderation_actor,
    sent_alone,
    stored,
)


async def test_a_ban_is_told_and_refuses_later_posts(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's post relayed to carol
    await _carol(copub, remote2)
    early = await _relayed(copub, remote, remote2, follower, "Buy followers now")
    # When a coordinator bans alice, removing her posts
    out = await copub.cli(
        "ban", SLUG, follower.id, "--reason", "Spam", "--remove-posts"
    )  # fmt: skip
    assert f"banned {follower.id}" in out
    assert "removed 1 of their posts" in out
    # Then alice gets the community's Block, Lemmy's community ban
    group = copub.actor(SLUG)
    [block] = await remote.wait_for(sent_alone("Block", follower.id))
    assert block.signer == moderation_actor(group)  # Lemmy takes a ban from no Group
    assert_lemmy_shape(block.activity, lemmy("block-user"), group)
    assert (block.activity["target"], block.activity["summary"]) == (group, "Spam")
    assert block.activity["removeData"] is True
    # And carol gets it announced, and the removal of alice's post
    [told] = await remote2.wait_for(announced("Block", follower.id))
    assert told.activity["object"]["id"] == block.activity["id"]
    [removal] = await remote2.wait_for(announced("Delete", early))
    assert removal.activity["object"]["summary"] == "Spam"
    assert "Buy followers now" not in await _page(copub)
    # And alice no longer follows the community
    assert not await copub.has_follower(follower.id)
    # When alice posts again
    note = remote.note(follower, "Still buying?", mention=copub.mention(SLUG))
    create = await remote.send_create(follower, copub.inbox(SLUG), note)
    await copub.processed(create["id"])
    # Then it is not relayed, nor stored
    assert await copub.sent("Announce", note["id"]) == []
    assert announces(inner_id=create["id"])(remote2.received) == []
    # And the log has the ban and the removal
    assert await log_lines(copub) == [
        (ModAction.BANNED, follower.id, "Spam", "operator"),
        (ModAction.REMOVED, early, "Spam", "operator"),
    ]
    # When the coordinator bans her again
    again = await copub.cli("ban", SLUG, follower.id)
    # Then nothing more is sent or logged
    assert "banned already" in again
    assert len(await copub.sent("Block")) == 1
    assert len(await log_lines(copub)) == 2


@sqlite_only
async def test_lifting_a_ban_lets_them_post_again(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice is banned (her posts kept)
    await _carol(copub, remote2)
    kept = await _relayed(copub, remote, remote2, follower, "An old tip")
    await copub.cli("ban", SLUG, follower.id, "--reason", "Heated")
    [block] = await remote.wait_for(sent_alone("Block", follower.id))
    assert "removeData" not in block.activity
    assert (await stored(copub, kept)).deleted_at is None
    # When the coordinator lifts the ban
    out = await copub.cli("unban", SLUG, follower.id)
    assert out.strip() == f"unbanned {follower.id}"
    # Then alice gets the Undo of that Block, and carol it announced
    [undo] = await remote.wait_for(sent_alone("Undo", follower.id))
    assert undo.activity["object"] == {k: v for k, v in block.activity.items() if k != "@context"}
    assert_lemmy_shape(undo.activity, lemmy("undo-block-user"), copub.actor(SLUG))
    await remote2.wait_for(announced("Block", follower.id, undo=True))
    # And once she follows again, her posts are relayed
    await follow(remote, follower, copub, SLUG)
    await _relayed(copub, remote, remote2, follower, "Calmer now")
    # And lifting it again changes nothing
    assert "nothing changed" in await copub.cli("unban", SLUG, follower.id)
    actions = [action for action, *_ in await log_lines(copub)]
    assert actions == [ModAction.BANNED, ModAction.UNBANNED]


@sqlite_only
async def test_a_coordinator_is_not_banned(copub: Copub, community: str) -> None:
    coordinator = "https://social.example/users/ann"
    await copub.cli("moderators", "add", SLUG, coordinator)
    out = await copub.cli("ban", SLUG, coordinator, ok=False)
    assert "remove them as coordinator first" in out
    assert "community cannot ban itself" in await copub.cli("ban", SLUG, community, ok=False)
    assert await copub.sent("Block") == []
