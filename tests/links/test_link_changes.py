"""Edits and deletions travel as far as the item travelled, exactly once.

Three copub servers on loopback (A: hospital, B: clinic, C: college), each with a follower
of its own (fa, fb, fc). C publishes a story that reaches A over B (or around a cycle); when
C edits or deletes it, every community that holds it applies the change its origin
confirms, and every follower hears of it once.
"""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import ObjectRow
from tests.flows.remote import Person, RemoteServer
from tests.links.network import Org, carrying, changing, settled, sqlite_only


async def _row(org: Org, object_id: str) -> ObjectRow:
    async with org.copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
    assert row is not None
    return row


async def _linked_section(org: Org) -> str:
    status, html = await org.copub.get(org.actor, accept="text/html")
    assert status == 200
    return str(html).split('id="linked-h"', 1)[1]


async def _story_everywhere(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> str:
    a, b, c = orgs
    fa, _fb, _fc = followers
    story = await c.copub.publish(c.slug, "Handover checklist", "What we check at 7 am.")
    await people.wait_for(carrying(story, fa.inbox_path))
    await settled(a, b, c)
    assert "Handover checklist" in await _linked_section(a)
    return story


async def _edit_and_delete_reach_everyone_once(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, fb, fc = followers
    story = await _story_everywhere(orgs, people, followers)
    # When C edits the story
    edit = ("edit", c.slug, story, "--title", "Handover list", "--content", "At 6 am.")
    out = await c.copub.cli(*edit)
    assert out.startswith("updated"), out
    await people.wait_for(changing(story, "Update", fa.inbox_path))
    await settled(a, b, c)
    # Then A and B hold C's new words, and A's page shows them
    for org in (a, b):
        row = await _row(org, story)
        assert (row.title, "At 6 am." in row.content_html) == ("Handover list", True)
    linked = await _linked_section(a)
    assert "Handover list" in linked
    assert "Handover checklist" not in linked
    # And each follower heard of the edit once: from C itself, or announced by B and by A
    for person, community in ((fa, a), (fb, b), (fc, c)):
        [edit] = changing(story, "Update", person.inbox_path)(people.received)
        assert edit.signer == community.actor
    # When C deletes the story
    out = await c.copub.cli("delete", c.slug, story)
    assert out.startswith("deleted"), out
    await people.wait_for(changing(story, "Delete", fa.inbox_path))
    await settled(a, b, c)
    # Then it is gone from A's and B's stores and from A's page
    for org in (a, b):
        assert (await _row(org, story)).deleted_at is not None
    _status, page = await a.copub.get(a.actor, accept="text/html")
    assert "Handover" not in page
    # And each follower got the Delete once, and nothing more about the story
    for person, community in ((fa, a), (fb, b), (fc, c)):
        [gone] = changing(story, "Delete", person.inbox_path)(people.received)
        assert gone.signer == community.actor
        assert len(changing(story, "Update", person.inbox_path)(people.received)) == 1
    # And nothing else moves
    before = await settled(a, b, c)
    assert await settled(a, b, c) == before


async def test_edit_and_delete_travel_the_chain_once(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    # Given A links B and B links C (C -> B -> A), both with the policy announce
    await a.link(b)
    await b.link(c)
    await _edit_and_delete_reach_everyone_once(orgs, people, followers)


@sqlite_only
async def test_edit_and_delete_go_around_a_cycle_once(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    # Given every community links every other (A <-> B <-> C <-> A), all announcing
    for one, other in ((a, b), (b, a), (b, c), (c, b), (c, a), (a, c)):
        await one.link(other)
    await _edit_and_delete_reach_everyone_once(orgs, people, followers)


@sqlite_only
async def test_a_link_that_does_not_announce_keeps_changes_to_itself(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, fb, _fc = followers
    # Given A links B and B links C, and B only shows what C sends (policy none)
    await a.link(b)
    await b.link(c, policy="none")
    story = await c.copub.publish(c.slug, "Handover checklist", "What we check at 7 am.")
    await c.copub.cli("edit", c.slug, story, "--content", "At 6 am.")
    await c.copub.cli("delete", c.slug, story)
    await settled(a, b, c)
    # Then B applied both, and neither the story nor its changes went further
    assert (await _row(b, story)).deleted_at is not None
    assert await a.stored(story) == 0
    for person in (fa, fb):
        for verb in ("Update", "Delete"):
            assert changing(story, verb, person.inbox_path)(people.received) == []
