"""Held posts on the console's Moderation page, with posts coming in through the inbox as
a peer signs them: a held post is listed; approved, it is stored and relayed once (a
second approval is refused); rejected, never relayed (its author told if the coordinator
says so); "reject all" empties the queue with a log line each. The moderation settings
and filters are changed there, each change audited; and the posting policy, filters and
hourly limit decide what is relayed and what is held as actors/moderation/posting.py says."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors import followers as people
from actors.community import Community, PostingPolicy
from actors.moderation import filters, holds
from actors.moderation.modlog import OPERATOR
from actors.moderation.settings import ModerationSettings, update_moderation_settings
from actors.settings import Settings
from actors.store import queries
from actors.store.models import ActivityRow
from actors.store.models_moderation import HeldPostRow
from federation.clock import utcnow
from tests import factories
from tests.conftest import ClientFactory
from tests.console.helpers import admin_link, audit_actions, coordinator, person, set_up
from tests.flows.remote import RemoteServer
from tests.moderation.inbound import Inbound, inbound_settings

MODERATION = "/console/c/nightshift/moderation"
HELD = MODERATION + "/held"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return inbound_settings(database_url)


@pytest.fixture
async def inbound(make_client: ClientFactory, remote: RemoteServer) -> Inbound:
    return Inbound(await make_client(), remote)


@pytest.fixture
async def nightshift(inbound: Inbound) -> Community:
    return await factories.create_community(inbound.sessions)


async def hold_ids(inbound: Inbound, community: Community) -> list[int]:
    async with inbound.sessions() as session:
        return [row.id for row in await holds.queue(session, community)]


async def modlog(client: TestClient[Any, Any], slug: str = "nightshift") -> list[dict[str, Any]]:
    async with client.get(f"/c/{slug}/modlog", headers={"Accept": "application/json"}) as answer:
        assert answer.status == 200
        return list((await answer.json())["items"])


async def sent(inbound: Inbound, activity_type: str) -> list[dict[str, Any]]:
    async with inbound.sessions() as session:
        rows = await session.scalars(
            select(ActivityRow.ap_json)
            .where(ActivityRow.ap_type == activity_type)
            .order_by(ActivityRow.id)
        )
        return list(rows)


async def test_a_held_post_is_listed_then_approved_and_relayed_once(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    # Given fay follows the community, and sam, who does not, posts to it
    fay, sam = inbound.peer.person("fay"), inbound.peer.person("sam")
    await inbound.follows(nightshift, fay)
    note = inbound.note(sam, "Night-shift <b>tips</b> &amp; tricks")
    create = await inbound.send(sam, note)
    assert await inbound.outcome(nightshift, note) == "held"
    assert await inbound.announces(note) == 0
    # Then the coordinator finds it in the queue: who, why, what (as plain text)
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert page.status == 200
    assert "1 post waits for a decision" in page.text
    assert "not a follower of the community" in page.text
    assert "Night-shift tips &amp; tricks" in page.text  # the markup gone, the text escaped
    assert "<b>tips" not in page.text
    assert note["id"] in page.text
    [hold_id] = await hold_ids(inbound, nightshift)
    # When she approves it
    page = await alice.post(f"{HELD}/{hold_id}/approve")
    assert page.status == 200
    assert "Approved: the post is relayed" in page.text
    assert "No posts wait for a decision" in page.text
    # Then the activity is queued again, and relayed once it is processed
    assert await inbound.inbox_items(create) == ["done", "pending"]
    assert await inbound.announces(note) == 0
    await inbound.process()
    assert await inbound.outcome(nightshift, note) == "relayed"
    assert await inbound.announces(note) == 2  # the Create announced, and the Note
    assert await inbound.deliveries("Announce") == 2  # to fay's inbox, each
    # And only once: a second approval is refused, in the console and in the domain
    page = await alice.post(f"{HELD}/{hold_id}/approve")
    assert page.status == 409
    assert "no longer waits in the queue" in page.text
    async with inbound.sessions.begin() as session:
        with pytest.raises(holds.NoSuchHold):
            await holds.approve(session, nightshift, hold_id, OPERATOR)
    await inbound.send(sam, note)  # sam's server sends it again
    assert await inbound.process() == 0
    assert await inbound.announces(note) == 2
    # And the log and the audit say who did what
    lines = await modlog(inbound.client)
    assert [(line["action"], line["role"]) for line in lines] == [
        ("approved", "coordinator"),
        ("held", "policy"),
    ]
    assert [a for who, a in await audit_actions(inbound.sessions) if who == "alice"][-1:] == [
        "held.approve"
    ]


async def test_a_rejected_post_is_never_relayed_and_its_author_may_be_told(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    sam = inbound.peer.person("sam")
    await inbound.knows(sam)  # (a held post's author is not fetched: no inbox known else)
    first = await inbound.post(sam, "Buy my course")
    second = await inbound.post(sam, "Buy my course, again")
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    await alice.get(MODERATION)
    first_id, second_id = await hold_ids(inbound, nightshift)
    # When the coordinator rejects the first, telling sam why, and the second silently
    form = {"reason": "Advertising,   not practice", "tell_author": "on"}
    page = await alice.post(f"{HELD}/{first_id}/reject", form)
    assert page.status == 200
    assert "its author is sent a Reject" in page.text
    page = await alice.post(f"{HELD}/{second_id}/reject", {"reason": ""})
    assert "Rejected: the post is not relayed." in page.text
    # Then neither is relayed, however often sam's server sends them again
    for note in (first, second):
        assert await inbound.outcome(nightshift, note) == "rejected"
        await inbound.send(sam, note)
        assert await inbound.outcome(nightshift, note) == "rejected"
        assert await inbound.announces(note) == 0
    # And sam got one Reject, of the first Create, with the reason
    [reject] = await sent(inbound, "Reject")
    assert reject["to"] == [sam.id]
    assert reject["object"]["id"] == first["id"] + "/activity"
    assert reject["summary"] == "Advertising, not practice"
    assert await inbound.deliveries("Reject") == 1
    # And the log has both, the reason of the first
    lines = await modlog(inbound.client)
    assert [(line["action"], line["reason"]) for line in lines[:2]] == [
        ("rejected", ""),
        ("rejected", "Advertising, not practice"),
    ]
    # And a rejected post cannot be approved after all
    page = await alice.post(f"{HELD}/{first_id}/approve")
    assert page.status == 409


async def test_reject_all_empties_the_queue_with_a_log_line_each(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    pharmacy = await factories.create_community(inbound.sessions, "pharmacy")
    spammers = [inbound.peer.person(f"spam{n}") for n in range(4)]
    notes = [await inbound.post(s, f"Win big {n}") for n, s in enumerate(spammers)]
    kept = await inbound.post(spammers[0], "Win big", slug="pharmacy")  # another community's
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert "4 posts wait for a decision" in page.text
    assert "Reject all 4 held posts" in page.text
    # A coordinator of another community can neither see nor empty this queue
    bob = await coordinator(inbound.client, settings, inbound.sessions, pharmacy.id, "bob")
    assert (await bob.get(MODERATION)).status == 403
    await bob.get("/console/c/pharmacy/moderation")
    assert (await bob.post(HELD + "/reject-all", {"reason": "mine now"})).status == 403
    [first_id, *_] = await hold_ids(inbound, nightshift)
    assert (await bob.post(f"{HELD}/{first_id}/approve")).status == 403
    assert (await bob.post(f"{HELD}/{first_id}/reject", {"reason": "x"})).status == 403
    assert (await bob.get(HELD + "/reject-all")).status == 403
    refused = {"posting_policy": "anyone", "posts_per_hour": "0"}
    assert (await bob.post(MODERATION + "/settings", refused)).status == 403
    filter_form = {"filter-kind": "word", "filter-value": "nurses"}
    assert (await bob.post(MODERATION + "/filters", filter_form)).status == 403
    assert len(await hold_ids(inbound, nightshift)) == 4
    async with inbound.sessions() as session:
        unchanged = await queries.get_community(session, "nightshift")
        assert unchanged == nightshift
        assert await filters.filters_for(session, nightshift.id) == []
    # When alice confirms rejecting them all
    page = await alice.get(HELD + "/reject-all")
    assert page.status == 200
    assert "Reject all 4 held posts?" in page.text
    page = await alice.post(HELD + "/reject-all", {"reason": "Spam wave"})
    assert page.status == 200
    assert "Every held post was rejected." in page.text
    assert "No posts wait for a decision" in page.text
    # Then the queue is empty, none relayed, a log line for each; pharmacy's still waits
    assert await hold_ids(inbound, nightshift) == []
    assert {await inbound.outcome(nightshift, n) for n in notes} == {"rejected"}
    assert [await inbound.announces(n) for n in notes] == [0, 0, 0, 0]
    rejected = [line for line in await modlog(inbound.client) if line["action"] == "rejected"]
    assert sorted(line["target"] for line in rejected) == sorted(n["id"] for n in notes)
    assert {(line["reason"], line["role"]) for line in rejected} == {("Spam wave", "coordinator")}
    assert await inbound.outcome(pharmacy, kept) == "held"
    actions = [a for who, a in await audit_actions(inbound.sessions) if who == "alice"]
    assert "held.reject_all" in actions


async def test_settings_and_filters_are_changed_on_the_page(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    await inbound.follows(nightshift, inbound.peer.person("fay"))
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert re.search(r'<option value="followers" selected>', page.text)
    form = {"posting_policy": "coordinators", "hold_first_posts": "on", "posts_per_hour": "3",
            "modlog_names": "on"}  # fmt: skip
    page = await alice.post(MODERATION + "/settings", form)
    assert page.status == 200
    assert "Saved." in page.text
    async with inbound.sessions() as session:
        community = await queries.get_community(session, "nightshift")
    assert community is not None
    assert ModerationSettings.of(community) == ModerationSettings(
        PostingPolicy.COORDINATORS, hold_first_posts=True, posts_per_hour=3, modlog_names=True
    )
    # the followers' servers learn the community is restricted (Lemmy's flag), once
    [update] = await sent(inbound, "Update")
    assert update["object"]["postingRestrictedToMods"] is True
    page = await alice.post(MODERATION + "/settings", form)
    assert "Nothing changed." in page.text
    form.update(posts_per_hour="5")  # not in the actor document: nothing to tell
    assert "Saved." in (await alice.post(MODERATION + "/settings", form)).text
    assert len(await sent(inbound, "Update")) == 1
    page = await alice.post(MODERATION + "/settings", {**form, "posts_per_hour": "-2"})
    assert page.status == 400
    assert "whole number from 0" in page.text
    # filters of the community: added, refused when not one, removed
    page = await alice.post(MODERATION + "/filters", {"filter-kind": "word",
                                                      "filter-value": " Free  Money "})  # fmt: skip
    assert "Filter added" in page.text
    assert "Remove the filter free money" in page.text
    page = await alice.post(MODERATION + "/filters", {"filter-kind": "word",
                                                      "filter-value": "free money"})  # fmt: skip
    assert "That filter was there already." in page.text
    page = await alice.post(MODERATION + "/filters", {"filter-kind": "domain",
                                                      "filter-value": "not a domain"})  # fmt: skip
    assert page.status == 400
    assert "Give a domain" in page.text
    # the server's filters: shown to coordinators, changed by admins only
    assert (await alice.post(MODERATION + "/server-filters", {"server-filter-kind": "domain",
            "server-filter-value": "spam.example"})).status == 403  # fmt: skip
    admin = person(inbound.client, settings)
    await set_up(admin, await admin_link(inbound.sessions, "ada"))
    await admin.get(MODERATION)
    page = await admin.post(MODERATION + "/server-filters", {"server-filter-kind": "domain",
                            "server-filter-value": "https://Spam.Example/x"})  # fmt: skip
    assert "Remove the filter spam.example" in page.text
    page = await alice.get(MODERATION)
    assert "spam.example" in page.text
    assert "Remove the filter spam.example" not in page.text
    await alice.post(MODERATION + "/filters/remove", {"filter-kind": "word",
                                                      "filter-value": "free money"})  # fmt: skip
    async with inbound.sessions() as session:
        assert [str(f) for f in await filters.filters_for(session, nightshift.id)] == [
            "domain:spam.example"
        ]
    actions = [(who, a) for who, a in await audit_actions(inbound.sessions) if "." in a]
    assert ("alice", "moderation.settings") in actions
    assert ("alice", "filter.add") in actions
    assert ("alice", "filter.remove") in actions
    assert ("ada", "server_filter.add") in actions


async def _set(inbound: Inbound, community: Community, **wanted: Any) -> Community:
    async with inbound.sessions.begin() as session:
        return await update_moderation_settings(
            session, inbound.urls, community, ModerationSettings(**wanted),
            now=utcnow(),
        )  # fmt: skip


async def test_the_posting_policy_decides_what_is_relayed_and_what_is_held(
    inbound: Inbound, nightshift: Community
) -> None:
    """Signed Creates into the inbox, one policy after another on one community: the
    order matters (a relayed post makes its author a member)."""
    peer = inbound.peer
    sam, fay, newt, gil, cora = (peer.person(n) for n in ("sam", "fay", "newt", "gil", "cora"))
    await inbound.follows(nightshift, fay, newt, gil)
    await inbound.coordinates(nightshift, cora)
    any_, followers, members, coordinators = (
        PostingPolicy.ANYONE, PostingPolicy.FOLLOWERS, PostingPolicy.MEMBERS,
        PostingPolicy.COORDINATORS,
    )  # fmt: skip
    cases: list[tuple[dict[str, Any], Any, str, str, str]] = [
        # (settings, author, text, link, outcome: reason held)
        ({"posting_policy": any_}, sam, "Hello all", "", "relayed"),
        ({"posting_policy": followers}, sam, "Hello again", "", "held: not a follower"),
        ({"posting_policy": followers}, fay, "A tip", "", "relayed"),
        ({"posting_policy": members}, newt, "My first", "", "held: a follower's first post"),
        ({"posting_policy": members}, fay, "Another tip", "", "relayed"),
        ({"posting_policy": coordinators}, fay, "One more", "", "held: only coordinators"),
        ({"posting_policy": coordinators}, cora, "From the team", "", "relayed"),
        ({"posting_policy": followers, "hold_first_posts": True}, gil, "Hi", "",
         "held: a first post"),
        ({"posting_policy": followers, "hold_first_posts": True}, fay, "Tip 4", "", "relayed"),
        ({"posting_policy": any_, "posts_per_hour": 2}, sam, "Twice", "", "relayed"),
        ({"posting_policy": any_, "posts_per_hour": 2}, sam, "Thrice", "",
         "held: more than 2 posts in an hour"),
        ({"posting_policy": any_}, fay, "Casino nights!", "", "held: community filter word:casino"),
        ({"posting_policy": any_}, fay, "See", "https://win.spam.example/x",
         "held: server filter domain:spam.example"),
        ({"posting_policy": any_}, cora, "No casino here", "", "relayed"),  # coordinators pass
    ]  # fmt: skip
    async with inbound.sessions.begin() as session:
        await filters.add_filter(session, nightshift.id, filters.parse_filter("word", "casino"))
        await filters.add_filter(session, None, filters.parse_filter("domain", "spam.example"))
    found = []
    for wanted, author, text, link, expected in cases:
        nightshift = await _set(inbound, nightshift, **wanted)
        note = await inbound.post(author, text, link=link)
        outcome = await inbound.outcome(nightshift, note)
        if outcome == "held":
            outcome += ": " + await inbound.reason(nightshift, note)
        found.append(outcome if not expected.startswith("held") else outcome[: len(expected)])
    assert found == [expected for *_, expected in cases]
    # a banned actor is refused outright, neither relayed nor held
    async with inbound.sessions.begin() as session:
        await people.block(session, nightshift.id, people.block_target(sam.id), "spam")
    note = await inbound.post(sam, "Let me back in")
    assert await inbound.outcome(nightshift, note) == "refused"
    async with inbound.sessions() as session:
        held = await session.scalars(select(HeldPostRow.object_ap_id))
        assert note["id"] not in list(held)
