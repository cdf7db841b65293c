"""Attack class (and real-world JSON-LD): objects whose ``type`` is a list.

``"type": ["Note", "http://schema.org/Something"]`` is valid JSON-LD and seen in the wild;
it once raised ``TypeError: unhashable type: 'list'`` and the item failed six times. Every
read of ``type`` takes a string or a list (``federation.vocab.types_of``): such a post is
processed once, stored and relayed like any other. The same holds for the activity itself:
``"type": ["http://schema.org/Something", "Follow"]`` is accepted (202) and applied as the
Follow it is, and stored under that main type.
"""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import InboxItemRow, ObjectRow
from actors.store.models_practice import EventDetailRow
from tests.flows import mastodon, mobilizon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces

SCHEMA = "http://schema.org/Something"


async def _row(copub: Copub, object_id: str) -> ObjectRow | None:
    async with copub.sessions() as session:
        return await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))


async def test_multi_typed_note_is_stored_and_relayed_once(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol follows the community too
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    # When alice posts a Note typed ["Note", schema.org's], mentioning the community
    note = remote.note(follower, "Typed twice", mention=copub.mention("nightshift"))
    note["type"] = ["Note", SCHEMA]
    create = await remote.send_create(follower, copub.shared_inbox, note)
    await copub.processed(create["id"])
    # Then it was applied once, without a failure
    assert await copub.inbox_items(create["id"]) == ["done"]
    row = await _row(copub, note["id"])
    assert row is not None
    assert row.kind == "post"
    assert row.ap_type == "Note"
    # And carol gets it relayed, once
    [boost] = await remote2.wait_for(announces(inner_id=create["id"]))
    assert boost.activity["object"]["object"]["type"] == ["Note", SCHEMA]
    assert len(await copub.sent("Announce", note["id"])) == 2


@sqlite_only
async def test_multi_typed_event_is_filed_as_an_event(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    mona = remote.person("mona")
    await follow(remote, mona, copub, "nightshift")
    event = mobilizon.event(mona)
    event["type"] = [SCHEMA, "Event"]
    create = mobilizon.create(mona, event)
    status, answer = await remote.post(mona, copub.inbox("nightshift"), create)
    assert status == 202, answer
    await copub.processed(create["id"])
    assert await copub.inbox_items(create["id"]) == ["done"]
    row = await _row(copub, event["id"])
    assert row is not None
    assert (row.kind, row.ap_type) == ("event", "Event")
    async with copub.sessions() as session:
        assert await session.get(EventDetailRow, row.id) is not None


@sqlite_only
async def test_undo_of_a_multi_typed_follow_unfollows(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given alice follows the community; when she takes back a Follow typed twice
    follow_activity = mastodon.follow(follower, copub.actor("nightshift"))
    undo = mastodon.undo(follower, {**follow_activity, "type": ["Follow", SCHEMA]})
    status, answer = await remote.post(follower, copub.inbox("nightshift"), undo)
    assert status == 202, answer
    await copub.processed(undo["id"])
    # Then she no longer follows it
    assert await copub.inbox_items(undo["id"]) == ["done"]
    assert not await copub.has_follower(follower.id)


@sqlite_only
async def test_multi_typed_activity_is_accepted_and_applied(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given bob sends a Follow whose own type is a list, the Follow not first
    bob = remote.person("bob")
    follow_activity = {**mastodon.follow(bob, community), "type": [SCHEMA, "Follow"]}
    # When it is POSTed to the community's inbox
    status, answer = await remote.post(bob, copub.inbox("nightshift"), follow_activity)
    # Then it is accepted, stored under its main type, and bob follows the community
    assert status == 202, answer
    await copub.processed(follow_activity["id"])
    assert await copub.inbox_items(follow_activity["id"]) == ["done"]
    async with copub.sessions() as session:
        stored = await session.scalar(
            select(InboxItemRow.activity_type).where(
                InboxItemRow.activity_id == follow_activity["id"]
            )
        )
    assert stored == "Follow"
    assert await copub.follower_state("nightshift", bob.id) == "accepted"


@sqlite_only
async def test_activity_whose_type_holds_no_name_is_400(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    """A ``type`` that is a list without a single string names nothing: a 400 with a reason."""
    mallory = remote.person("mallory")
    odd = {**mastodon.follow(mallory, community), "type": [1, {"x": "Follow"}]}
    status, answer = await remote.post(mallory, copub.inbox("nightshift"), odd)
    assert status == 400, answer
    assert answer["error"] == "the activity has no 'type'"
    assert await copub.inbox_items(odd["id"]) == []
