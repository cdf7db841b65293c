"""Links between members-only communities (issue 18, item 2), three copub servers.

A (hospital) and B (clinic) are members-only and link each other, each approved by the
other's coordinator; C (college) is public and its link to A is approved too. What A
publishes reaches B (which keeps it behind its own fetch gate and announces it to its own
members only) and never C nor C's follower; what B publishes reaches A. Nobody else fetches
any of it from either side. Once B goes public, A sends it nothing more.
"""

from __future__ import annotations

import uuid
from typing import Any

from actors.members import is_public
from tests.flows.copub import wait_until
from tests.flows.remote import Person, RemoteServer
from tests.links.network import Org, carrying, post_signed, settled

AS2 = "application/activity+json"


async def _members_only(org: Org) -> None:
    out = await org.copub.cli("community", "edit", org.slug, "--visibility", "members")
    assert "only approved followers see" in out


async def _linked_with_approval(org: Org, other: Org) -> str:
    """``org`` links ``other`` (policy announce); ``other``'s coordinator approves it (what
    the approval said is returned)."""
    out = await org.copub.cli("link", org.slug, other.handle, "--policy", "announce")
    assert "pending until it accepts" in out, out

    async def asked() -> bool:
        return await other.copub.has_follower(org.actor)

    await wait_until(asked, 20, f"{org.slug} asks {other.slug}")
    said = await other.copub.cli("followers", "approve", other.slug, org.actor)
    await org.wait_link(other, "accepted")
    return said


async def _unsigned(org: Org, url: str, accept: str = AS2) -> tuple[int, Any]:
    return await org.copub.get(url, accept=accept)


async def test_two_members_only_communities_exchange_items_and_leak_none(
    orgs: tuple[Org, Org, Org], people: RemoteServer, followers: tuple[Person, Person, Person]
) -> None:
    a, b, c = orgs
    fa, fb, fc = followers  # each a follower before the switch: a member of A and of B
    await _members_only(a)
    await _members_only(b)
    assert "note:" not in await _linked_with_approval(b, a)
    assert "note:" not in await _linked_with_approval(a, b)
    # C is public: its link is approved, and the coordinator is told it gets nothing
    said = await _linked_with_approval(c, a)
    assert "is a community that is not members-only" in said

    story = await a.copub.publish(a.slug, "Sharps incident", "What we changed.")
    await people.wait_for(carrying(story, fb.inbox_path))  # through B, to B's member
    await settled(a, b, c)
    # B took it once, and announced it once, to its own members, not to the Public
    assert (await b.stored(story), await b.link_items(story)) == (1, 1)
    assert await b.announces_of(story) == 1
    [to_fb] = carrying(story, fb.inbox_path)(people.received)
    assert (to_fb.type, to_fb.signer) == ("Announce", b.actor)
    assert not is_public(to_fb.activity)
    [to_fa] = carrying(story, fa.inbox_path)(people.received)
    assert not is_public(to_fa.activity)
    # C (public) got nothing over its link, nor did its follower
    assert (await c.stored(story), await c.link_items(story)) == (0, 0)
    assert await c.received_about(story) == 0
    assert carrying(story, fc.inbox_path)(people.received) == []
    for inbox in (c.copub.shared_inbox, c.copub.inbox(c.slug)):
        for verb in ("Create", "Announce", "Update"):
            assert await a.copub.deliveries_to(inbox, verb) == 0, (inbox, verb)
    # nobody fetches it unsigned from A, nor finds it on B's pages
    assert (await _unsigned(a, story))[0] == 404
    status, page = await _unsigned(b, b.actor, accept="text/html")
    assert status == 200
    assert "Sharps incident" not in page
    for path in ("/outbox?page=1", "/feed.atom", "/network.json", "/stories"):
        status, body = await _unsigned(b, b.actor + path)
        assert status == 404, path
        assert "Sharps incident" not in str(body), path

    # C takes nothing that is not public, even from A's own key (its links are checked on
    # the receiving side too): followers-only, it stays out of a public community
    private = a.copub.urls.object(a.slug, "members-" + uuid.uuid4().hex)
    followers = [a.copub.urls.community_followers(a.slug)]
    note = {"id": private, "type": "Note", "attributedTo": a.actor, "name": "Forged",
            "content": "<p>For members</p>", "to": followers}  # fmt: skip
    create = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Create",
              "id": a.copub.urls.activity(a.slug, uuid.uuid4().hex), "actor": a.actor,
              "to": followers, "object": note}  # fmt: skip
    assert await post_signed(await a.signer(), c.copub.inbox(c.slug), create) == 202
    await settled(a, b, c)
    assert await c.received_about(private) == 1
    assert (await c.stored(private), await c.link_items(private)) == (0, 0)

    # and back: what B publishes reaches A and A's member, never C
    answer = await b.copub.publish(b.slug, "Our sharps bins", "Where we moved them.")
    await people.wait_for(carrying(answer, fa.inbox_path))
    await settled(a, b, c)
    assert (await a.stored(answer), await a.link_items(answer)) == (1, 1)
    assert await c.stored(answer) == 0
    assert carrying(answer, fc.inbox_path)(people.received) == []
    assert (await _unsigned(b, answer))[0] == 404

    # B goes public: its Update tells A at once, and A sends it nothing more
    await b.copub.cli("community", "edit", b.slug, "--visibility", "public")
    await settled(a, b, c)
    later = await a.copub.publish(a.slug, "Needle log", "Members only, still.")
    await people.wait_for(carrying(later, fa.inbox_path))
    await settled(a, b, c)
    assert await b.received_about(later) == 0
    assert await b.stored(later) == 0
