"""A coordinator removes a member's post and restores it, locks a thread and unlocks it:
the followers hear of each once, in Lemmy's shapes, announced by the
community; the page hides what is removed; the moderation log has a line for each."""

from __future__ import annotations

from actors.store.models_moderation import ModAction
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces
from tests.moderation.wire import (
    announced,
    assert_lemmy_shape,
    lemmy,
    log_lines,
    moderation_actor,
    public_activities,
    stored,
)

SLUG = "nightshift"


async def _relayed(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, author: Person, text: str,
    in_reply_to: str | None = None,
) -> str:  # fmt: skip
    """``author`` posts ``text`` to the community; carol (remote2) gets it. Its id."""
    note = remote.note(author, text, mention=copub.mention(SLUG), in_reply_to=in_reply_to)
    create = await remote.send_create(author, copub.inbox(SLUG), note)
    await remote2.wait_for(announces(inner_id=create["id"]))
    return str(note["id"])


async def _page(copub: Copub) -> str:
    status, html = await copub.get(copub.actor(SLUG), accept="text/html")
    assert status == 200
    return str(html)


async def _carol(copub: Copub, remote2: RemoteServer) -> Person:
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, SLUG)
    return carol


async def test_a_removed_post_is_hidden_and_the_followers_told_once(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's post was relayed to carol and shows on the community page
    await _carol(copub, remote2)
    note = await _relayed(copub, remote, remote2, follower, "Cheap watches here")
    assert "Cheap watches here" in await _page(copub)
    # When a coordinator removes it, giving a reason
    out = await copub.cli("remove", SLUG, note, "--reason", "Selling  things\n")
    assert out.strip() == f"removed {note}"
    # Then carol gets the community's Delete with the reason, announced by the community
    [removal] = await remote2.wait_for(announced("Delete", note))
    group = copub.actor(SLUG)
    assert removal.signer == group
    delete = removal.activity["object"]
    assert (delete["actor"], delete["object"], delete["summary"]) == (
        moderation_actor(group),
        note,
        "Selling things",
    )
    # in the shape of Lemmy's moderator removal, announced as Lemmy's communities announce
    recorded = lemmy("announce-remove-page")
    assert_lemmy_shape(delete, recorded["object"], group)
    assert set(recorded) - {"@context"} <= set(removal.activity)
    assert removal.activity["audience"] == group
    # And the page, the outbox and the row no longer show it
    assert "Cheap watches here" not in await _page(copub)
    assert await public_activities(copub, note) == ["Announce(Delete)"]
    row = await stored(copub, note)
    assert row.removed_at is not None
    assert row.deleted_at is not None
    # And the log says so, with the reason as one line
    assert await log_lines(copub) == [("removed", note, "Selling things", "operator")]
    # When the coordinator removes it again (a double click)
    again = await copub.cli("remove", SLUG, note)
    # Then nothing changes and nothing more is sent
    assert "nothing changed" in again
    assert len(await copub.sent("Announce", note)) == 3  # Create's, the Note's, the Delete's
    assert len(await log_lines(copub)) == 1


@sqlite_only
async def test_a_restored_post_shows_again(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given a removed post
    await _carol(copub, remote2)
    note = await _relayed(copub, remote, remote2, follower, "A fair question after all")
    await copub.cli("remove", SLUG, note, "--reason", "misread")
    [removal] = await remote2.wait_for(announced("Delete", note))
    # When the coordinator restores it
    out = await copub.cli("restore", SLUG, note)
    assert out.strip() == f"restored {note}"
    # Then carol gets the Undo of that very removal, announced
    [undo] = await remote2.wait_for(announced("Delete", note, undo=True))
    inner = undo.activity["object"]
    assert inner["object"] == removal.activity["object"]
    assert_lemmy_shape(inner, lemmy("undo-remove-page"), copub.actor(SLUG))
    # And the page and the outbox show it again (the removal stays as history)
    assert "A fair question after all" in await _page(copub)
    shown = await public_activities(copub, note)
    assert shown == ["Announce(Create)", "Announce(id)", "Announce(Delete)", "Announce(Undo)"]
    assert (await stored(copub, note)).removed_at is None
    # And a second restore changes nothing
    assert "nothing changed" in await copub.cli("restore", SLUG, note)
    assert [line[0] for line in await log_lines(copub)] == [ModAction.REMOVED, ModAction.RESTORED]
    assert len(announced("Delete", note, undo=True)(remote2.received)) == 1


@sqlite_only
async def test_a_locked_thread_relays_no_more_replies(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's thread with a reply relayed
    await _carol(copub, remote2)
    root = await _relayed(copub, remote, remote2, follower, "Night rota swaps?")
    reply = await _relayed(copub, remote, remote2, follower, "Me first", in_reply_to=root)
    # When a coordinator locks the thread, naming the reply
    out = await copub.cli("lock", SLUG, reply, "--reason", "Settled")
    assert out.strip() == f"locked {reply}"
    # Then the thread's first post is locked and carol gets Lemmy's Lock of it
    [lock] = await remote2.wait_for(announced("Lock", root))
    assert_lemmy_shape(lock.activity["object"], lemmy("lock-page"), copub.actor(SLUG))
    assert lock.activity["object"]["summary"] == "Settled"
    assert (await stored(copub, root)).locked_at is not None
    # And a new reply in it is not relayed
    late = remote.note(follower, "One more", mention=copub.mention(SLUG), in_reply_to=root)
    create = await remote.send_create(follower, copub.inbox(SLUG), late)
    await copub.processed(create["id"])
    assert announces(inner_id=create["id"])(remote2.received) == []
    assert await copub.sent("Announce", late["id"]) == []
    # And locking again sends nothing
    assert "nothing changed" in await copub.cli("lock", SLUG, root)
    # When it is unlocked
    assert (await copub.cli("unlock", SLUG, root)).strip() == f"unlocked {root}"
    # Then carol gets the Undo of the Lock, and replies are relayed again
    [undo] = await remote2.wait_for(announced("Lock", root, undo=True))
    assert undo.activity["object"]["object"] == lock.activity["object"]
    assert_lemmy_shape(undo.activity["object"], lemmy("undo-lock-page"), copub.actor(SLUG))
    await _relayed(copub, remote, remote2, follower, "Back in", in_reply_to=root)
    lines = [(action, target) for action, target, _r, _role in await log_lines(copub)]
    assert lines == [(ModAction.LOCKED, root), (ModAction.UNLOCKED, root)]


@sqlite_only
async def test_what_cannot_be_removed_says_why(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given the community's own story, and a URL it does not hold
    story = await copub.publish(SLUG, "Handover", "At 7 am.")
    # When a coordinator tries to remove them
    own = await copub.cli("remove", SLUG, story, ok=False)
    unknown = await copub.cli("remove", SLUG, remote.base_url + "/users/x/statuses/1", ok=False)
    # Then each says what to do, and nothing is sent or logged
    assert f"copub delete {SLUG} {story}" in own
    assert "holds no post" in unknown
    assert await copub.sent("Delete") == []
    assert await log_lines(copub) == []


@sqlite_only
async def test_a_remove_from_someone_not_a_coordinator_is_ignored(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's relayed post, and dave, who coordinates nothing
    await _carol(copub, remote2)
    note = await _relayed(copub, remote, remote2, follower, "Fine tip")
    dave = remote.person("dave")
    # When dave sends a Remove of it with the community as target (Lemmy's older removal)
    remove = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": dave.id + "#remove-1",
        "type": "Remove",
        "actor": dave.id,
        "object": note,
        "target": copub.actor(SLUG),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    status, _ = await remote.post(dave, copub.inbox(SLUG), remove)
    assert status == 202
    await copub.processed(remove["id"])
    # Then the post stays and nothing is sent
    assert (await stored(copub, note)).removed_at is None
    assert await log_lines(copub) == []
    # When dave coordinates the community and sends it again
    await copub.cli("moderators", "add", SLUG, dave.id)
    remove["id"] = dave.id + "#remove-2"
    status, _ = await remote.post(dave, copub.inbox(SLUG), remove)
    assert status == 202
    # Then it is removed, and the followers told
    await remote2.wait_for(announced("Delete", note))
    assert (await stored(copub, note)).removed_at is not None
    assert (await log_lines(copub))[-1] == ("removed", note, "", "coordinator")


@sqlite_only
async def test_a_thread_under_the_communitys_own_story_can_be_locked(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given the community's story, with alice's reply relayed to carol
    await _carol(copub, remote2)
    story = await copub.publish(SLUG, "Night meds", "What do you check twice?")
    await _relayed(copub, remote, remote2, follower, "Insulin", in_reply_to=story)
    # When a coordinator locks it
    assert (await copub.cli("lock", SLUG, story)).strip() == f"locked {story}"
    # Then carol gets the Lock, and the next reply is not relayed
    await remote2.wait_for(announced("Lock", story))
    late = remote.note(follower, "And heparin", mention=copub.mention(SLUG), in_reply_to=story)
    create = await remote.send_create(follower, copub.inbox(SLUG), late)
    await copub.processed(create["id"])
    assert await copub.sent("Announce", late["id"]) == []
