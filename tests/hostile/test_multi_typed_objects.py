"""Attack class (and real-world JSON-LD): objects whose ``type`` is a list.

``"type": ["Note", "http://schema.org/Something"]`` is valid JSON-LD and seen in the wild;
it once raised ``TypeError: unhashable type: 'list'`` and the item failed six times. Every
read of ``type`` takes a string or a list (``federation.vocab.types_of``): such a post is
processed once, stored and relayed like any other.
"""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import ObjectRow
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
    assert row is not None and row.kind == "post" and row.ap_type == "Note"
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
    assert row is not None and (row.kind, row.ap_type) == ("event", "Event")
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
