"""Linked communities across organizations; a story travels A <- B <- C once.

Three copub servers on loopback (A: hospital, B: clinic, C: college), each with a follower
of its own. A links B and B links C, both with the policy ``announce``.
"""

from __future__ import annotations

import uuid

from tests.flows.copub import wait_until
from tests.flows.remote import Person, RemoteServer
from tests.links.network import Org, carrying, post_signed, settled, sqlite_only


async def _crosses_once(
    orgs: tuple[Org, Org, Org],
    people: RemoteServer,
    followers: tuple[Person, Person, Person],
    title: str,
) -> str:
    """C publishes a story; it reaches fc, fb and fa exactly once; returns its id."""
    a, b, c = orgs
    fa, fb, fc = followers
    story = await c.copub.publish(c.slug, title, "What we check at 7 am.")
    await people.wait_for(carrying(story, fa.inbox_path))
    await settled(a, b, c)
    # exactly once: C's Create to fc, B's Announce to fb, A's Announce to fa
    assert [d.type for d in carrying(story, fc.inbox_path)(people.received)] == ["Create"]
    [to_fb] = carrying(story, fb.inbox_path)(people.received)
    [to_fa] = carrying(story, fa.inbox_path)(people.received)
    assert (to_fb.type, to_fb.signer, to_fb.activity["object"]) == ("Announce", b.actor, story)
    assert (to_fa.type, to_fa.signer, to_fa.activity["object"]) == ("Announce", a.actor, story)
    assert to_fa.activity["audience"] == a.actor
    # each community stored it once and announced it once; C never took it back
    for org in (a, b):
        assert (await org.stored(story), await org.link_items(story)) == (1, 1)
        assert await org.announces_of(story) == 1
    assert (await c.link_items(story), await c.announces_of(story)) == (0, 0)
    return story


async def test_story_crosses_two_links_once_even_in_a_cycle(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, fb, fc = followers
    # Given A links B and B links C, both with the policy announce
    await a.link(b)
    await b.link(c)
    # When C publishes a story, Then it reaches C's, B's and A's followers once each
    story = await _crosses_once(orgs, people, followers, "Handover checklist")
    # And A shows it under "from linked communities", from C
    status, html = await a.copub.get(a.actor, accept="text/html")
    assert status == 200
    linked = html.split('id="linked-h"', 1)[1]
    assert "Handover checklist" in linked
    assert c.actor in linked
    # When C links A too: a cycle A -> B -> C -> A
    await c.link(a)
    # Then a story from C still reaches each follower once, and goes no further
    await _crosses_once(orgs, people, followers, "Fridge log")
    assert await a.copub.deliveries_to(c.copub.shared_inbox, "Announce") == 0
    # And a story from A travels the cycle A -> C -> B once, and never comes back to A
    own = await a.copub.publish(a.slug, "Night rota", "Three a night on weekends.")
    await people.wait_for(carrying(own, fb.inbox_path))
    await settled(a, b, c)
    for person, kind in ((fa, "Create"), (fc, "Announce"), (fb, "Announce")):
        assert [d.type for d in carrying(own, person.inbox_path)(people.received)] == [kind]
    assert (await a.link_items(own), await a.announces_of(own)) == (0, 0)
    assert await a.received_about(own) == 0  # not even offered back: origins are left out
    # And nothing else moves: the queues stay idle and the totals do not change
    before = await settled(a, b, c)
    assert await settled(a, b, c) == before
    assert story in html


@sqlite_only
async def test_unlinking_stops_the_flow(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, fb, _fc = followers
    await a.link(b)
    await b.link(c)
    first = await c.copub.publish(c.slug, "Before", "Travels.")
    await people.wait_for(carrying(first, fa.inbox_path))
    # When A unlinks B
    await a.unlink(b)
    assert await a.link_state(b) is None

    async def a_left_b() -> bool:
        return not await b.copub.has_follower(a.actor)

    await wait_until(a_left_b, 20, "B removed A from its followers")
    # Then a new story from C reaches B's follower but no longer A or A's follower
    second = await c.copub.publish(c.slug, "After", "Stops at B.")
    await people.wait_for(carrying(second, fb.inbox_path))
    await settled(a, b, c)
    assert carrying(second, fa.inbox_path)(people.received) == []
    assert await a.stored(second) == 0
    # And the links show it
    assert "out\taccepted\tannounce" in await b.copub.cli("links", b.slug)
    assert "has no links" in await a.copub.cli("links", a.slug)


@sqlite_only
async def test_forged_announce_is_refused(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, _fb, _fc = followers
    await a.link(b)
    await b.link(c)
    real = await c.copub.publish(c.slug, "Real", "The real text.")
    await people.wait_for(carrying(real, fa.inbox_path))
    signer = await b.signer()
    forged_id = c.copub.urls.object(c.slug, "forged-" + uuid.uuid4().hex)
    alice = people.person("alice")
    impostor = people.note(alice, "An honest note")
    impostor_id = people.base_url + f"/users/alice/statuses/{uuid.uuid4().int >> 64}"
    people.notes[impostor_id] = impostor  # answers with another object
    cases = {
        # an object C never published: C answers 404
        forged_id: {"id": forged_id, "type": "Note", "attributedTo": c.actor,
                    "content": "Fake", "to": ["https://www.w3.org/ns/activitystreams#Public"]},
        # a real object of C, with other words in the embedded copy
        real: {"id": real, "type": "Note", "attributedTo": c.actor, "name": "Real",
               "content": "<p>Forged words</p>",
               "to": ["https://www.w3.org/ns/activitystreams#Public"]},
        # a URL that answers with another object
        impostor_id: impostor_id,
    }  # fmt: skip
    for embedded in cases.values():
        # When someone with B's key announces it to A
        announce = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": b.copub.urls.activity(b.slug, uuid.uuid4().hex),
            "type": "Announce",
            "actor": b.actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": embedded,
        }
        assert await post_signed(signer, a.copub.shared_inbox, announce) == 202
        await a.copub.processed(announce["id"])
    await settled(a, b, c)
    # Then the objects its origin does not confirm are neither stored nor relayed
    assert await a.stored(forged_id) == 0
    assert await a.stored(impostor_id) == 0
    assert carrying(forged_id)(people.received) == []
    assert carrying(impostor_id)(people.received) == []
    # And the real story was stored once, with the words of its origin
    assert await a.link_items(real) == 1
    assert await a.announces_of(real) == 1
    _status, html = await a.copub.get(a.actor, accept="text/html")
    assert "Forged words" not in html
