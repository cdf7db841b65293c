"""Moderation across real servers: held posts approved or rejected by a coordinator.

(Removals, bans, moderators and reports between servers: tests/flows/test_moderation_links.py
and tests/interop.)"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from actors.store.models import ObjectRow
from tests.flows.copub import Copub, follow
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces


def held_ids(listing: str) -> list[str]:
    """The queue numbers ``copub held SLUG`` lists (a line a post: number, tab, author...)."""
    return re.findall(r"^(\d+)\t", listing, flags=re.MULTILINE)


async def test_a_held_first_post_is_approved_and_relayed_once(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given a community that holds first posts, followed by carol too
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    await copub.cli("community", "edit", "nightshift", "--hold-first-posts")
    # When alice (a follower) posts for the first time
    note = remote.note(follower, "My first question", mention=copub.mention("nightshift"))
    create = await remote.send_create(follower, copub.shared_inbox, note)
    await copub.processed(create["id"])
    # Then it is held: in the queue, not relayed, not stored in the community
    assert await copub.sent("Announce") == []
    listing = await copub.cli("held", "nightshift")
    [number] = held_ids(listing)
    assert "My first question" in listing
    # When a coordinator approves it, twice (a double click)
    await copub.cli("held", "approve", "nightshift", number)
    again = await copub.cli("held", "approve", "nightshift", number, ok=False)
    assert "no post" in again.lower()
    # Then carol gets it announced, once
    await remote2.wait_for(announces(object_id=note["id"]))
    await remote2.wait_for(announces(inner_id=create["id"]))
    stored = select(func.count()).select_from(ObjectRow).where(ObjectRow.ap_id == note["id"])
    assert await copub.count(stored) == 1
    assert len(await copub.sent("Announce", note["id"])) == 2  # the Create's, the Note's
    # And alice's next post is relayed without a hold (she has posted before)
    second = remote.note(follower, "And a second one", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.shared_inbox, second)
    await remote2.wait_for(announces(object_id=second["id"]))
    assert held_ids(await copub.cli("held", "nightshift")) == []
    # And the public moderation log tells both decisions
    status, log = await copub.get(copub.base_url + "/c/nightshift/modlog")
    assert status == 200
    actions = [(line["action"], line["target"]) for line in log["items"]]
    assert ("held", note["id"]) in actions
    assert ("approved", note["id"]) in actions


async def test_a_rejected_post_is_never_relayed_and_its_author_is_told(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol follows; dave, who does not, posts to the community (held: not a follower)
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    dave = remote2.person("dave")
    note = remote2.note(dave, "Cheap watches", mention=copub.mention("nightshift"))
    create = await remote2.send_create(dave, copub.shared_inbox, note)
    await copub.processed(create["id"])
    [number] = held_ids(await copub.cli("held", "nightshift"))
    # When a coordinator rejects it, telling dave why
    await copub.cli(
        "held", "reject", "nightshift", number, "--reason", "advertising", "--tell-author"
    )
    # Then dave gets a Reject of his Create
    [answer] = await remote2.wait_for(
        lambda got: [
            d for d in got if d.ok and d.type == "Reject" and d.path == "/users/dave/inbox"
        ]
    )
    assert answer.activity["object"]["id"] == create["id"]
    # And nothing about it was ever announced, and a follower's post right after is
    ok = remote.note(follower, "Real question", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.shared_inbox, ok)
    await remote2.wait_for(announces(object_id=ok["id"]))
    assert await copub.sent("Announce", note["id"]) == []
    assert announces(object_id=note["id"])(remote2.received) == []


async def test_the_public_log_lists_each_decision_without_names_unless_chosen(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's post relayed, and dave's held (he does not follow)
    note = remote.note(follower, "Tip: label the syringes", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.shared_inbox, note)
    await remote.wait_for(announces(object_id=note["id"]))
    dave = remote2.person("dave")
    spam = remote2.note(dave, "Cheap watches", mention=copub.mention("nightshift"))
    await copub.processed((await remote2.send_create(dave, copub.shared_inbox, spam))["id"])
    [number] = held_ids(await copub.cli("held", "nightshift"))
    # When the coordinators decide, each in its own words
    slug = "nightshift"
    await copub.cli("held", "reject", slug, number, "--reason", "Advertising")
    await copub.cli("remove", slug, note["id"], "--reason", "Names a patient")
    await copub.cli("restore", slug, note["id"])
    await copub.cli("lock", slug, note["id"], "--reason", "Answered")
    await copub.cli("ban", slug, dave.id, "--reason", "Spam")
    await copub.cli("moderators", "add", slug, remote.person("ana").id)
    await copub.cli("report", slug, spam["id"], "--reason", "Spam from your server")
    # Then the public log lists every one, newest first, with its reason and role
    status, log = await copub.get(copub.base_url + "/c/nightshift/modlog")
    assert status == 200
    lines = [(i["action"], i["target"], i["reason"]) for i in reversed(log["items"])]
    assert lines == [
        ("held", spam["id"], "not a follower of the community"),
        ("rejected", spam["id"], "Advertising"),
        ("removed", note["id"], "Names a patient"),
        ("restored", note["id"], ""),
        ("locked", note["id"], "Answered"),
        ("banned", dave.id, "Spam"),
        ("coordinator_added", remote.person("ana").id, ""),
        ("reported", spam["id"], "Spam from your server"),
    ]
    assert {i["role"] for i in log["items"]} == {"policy", "operator"}
    assert all("moderator" not in i for i in log["items"])
    # And once the community shows names, the operator is named on the operator's lines
    await copub.cli("community", "edit", slug, "--modlog-names")
    _, named = await copub.get(copub.base_url + "/c/nightshift/modlog")
    assert {i.get("moderator") for i in named["items"] if i["role"] == "operator"} == {"operator"}
