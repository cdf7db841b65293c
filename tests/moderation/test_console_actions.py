"""Reports, removals, locks and bans on the console's Moderation page (each
action a console page as well as a CLI command), on the real app, with posts and Flags coming
in through the inbox as a peer signs them: a coordinator removes a post (the followers'
inboxes get the community's announced Delete), restores it, locks and unlocks its thread,
bans its author with their posts removed and lifts the ban; resolves a report that came
in as a signed Flag and sends one (the moderation actor's Flag, queued); an admin resolves
the server's queue. Each action is audited, refusals are form errors, and a coordinator
of another community is refused every form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from actors.community import Community
from actors.settings import Settings
from actors.store.models import ActivityRow, DeliveryRow, FollowerRow, ObjectRow
from actors.store.models_moderation import ReportDirection, ReportRow, ReportState
from federation.vocab import JSON
from tests import factories
from tests.conftest import ClientFactory
from tests.console.helpers import admin_link, audit_actions, coordinator, person, set_up
from tests.flows.remote import Person, RemoteServer
from tests.moderation.inbound import Inbound, inbound_settings
from tests.moderation.test_holds_console import modlog

MODERATION = "/console/c/nightshift/moderation"
SERVER_REPORTS = "/console/server/reports"
ACTIONS = {"post.remove", "post.restore", "thread.lock", "thread.unlock", "actor.ban",
           "actor.unban", "report.resolve", "report.send", "server_report.resolve"}  # fmt: skip


@pytest.fixture
def settings(database_url: str) -> Settings:
    return inbound_settings(database_url)


@pytest.fixture
async def inbound(make_client: ClientFactory, remote: RemoteServer) -> Inbound:
    return Inbound(await make_client(), remote)


@pytest.fixture
async def nightshift(inbound: Inbound) -> Community:
    return await factories.create_community(inbound.sessions)


async def announced(inbound: Inbound, verb: str, about: str) -> list[tuple[JSON, set[str]]]:
    """The community's Announces of a ``verb`` about ``about``, each with the inboxes it is
    queued for, the oldest first."""
    async with inbound.sessions() as session:
        rows = (await session.execute(
            select(ActivityRow.id, ActivityRow.ap_json)
            .where(ActivityRow.ap_type == "Announce").order_by(ActivityRow.id)
        )).all()  # fmt: skip
        found = []
        for activity_id, ap_json in rows:
            inner = ap_json.get("object")
            if isinstance(inner, dict) and inner.get("type") == verb and about in json.dumps(inner):
                found.append((inner, await inboxes(session, activity_id)))
    return found


async def inboxes(session: Any, activity_id: int) -> set[str]:
    found = await session.scalars(
        select(DeliveryRow.inbox).where(DeliveryRow.activity_id == activity_id)
    )
    return set(found)


async def stored(inbound: Inbound, url: str) -> ObjectRow:
    async with inbound.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == url))
    assert row is not None
    return row


async def reports_kept(inbound: Inbound) -> list[ReportRow]:
    async with inbound.sessions() as session:
        return list(await session.scalars(select(ReportRow).order_by(ReportRow.id)))


async def flag(inbound: Inbound, reporter: Person, about: list[str], path: str, n: int = 1) -> None:
    """A signed Mastodon-style Flag from ``reporter`` into ``path``, applied."""
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{reporter.base_url}/flags/{n}",
        "type": "Flag",
        "actor": reporter.id,
        "content": "<p>Selling <b>pills</b></p>",
        "object": about,
    }
    status, answer = await inbound.peer.post(reporter, str(inbound.client.make_url(path)), activity)
    assert status == 202, answer
    await inbound.process()


async def test_a_post_removed_restored_locked_and_its_author_banned_and_unbanned(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    # Given fay and sam follow the community, and sam's post was relayed
    fay, sam = inbound.peer.person("fay"), inbound.peer.person("sam")
    await inbound.follows(nightshift, fay, sam)
    note = await inbound.post(sam, "Cheap watches here")
    url = str(note["id"])
    assert await inbound.outcome(nightshift, note) == "relayed"
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert page.status == 200
    assert "Removed posts and bans" in page.text
    assert "No posts are removed." in page.text
    assert "No one is banned from this community." in page.text
    # When alice removes it on the page, with a reason
    form = {"remove-url": f" {url} ", "remove-reason": "Selling  things"}
    page = await alice.post(MODERATION + "/removals", form)
    assert page.status == 200, page.text
    assert "Removed: the post is hidden" in page.text
    # Then the followers' inboxes get the community's Delete with the reason, announced
    [(delete, sent_to)] = await announced(inbound, "Delete", url)
    assert (delete["object"], delete["summary"]) == (url, "Selling things")
    assert delete["actor"] == inbound.urls.moderation()
    assert fay.inbox in sent_to
    assert (await stored(inbound, url)).removed_at is not None
    # And the page lists it, to restore; removing it again changes nothing
    assert "Cheap watches here" in page.text
    assert "Restore<span" in page.text
    page = await alice.post(MODERATION + "/removals", {"remove-url": url, "remove-reason": ""})
    assert "That post is not shown" in page.text
    assert len(await announced(inbound, "Delete", url)) == 1
    # When she restores it, the followers get the Undo of the removal
    page = await alice.post(MODERATION + "/removals/restore", {"url": url})
    assert "Restored: the post shows again" in page.text
    assert "No posts are removed." in page.text
    [(undo, sent_to)] = await announced(inbound, "Undo", url)
    assert undo["object"]["type"] == "Delete"
    assert fay.inbox in sent_to
    assert (await stored(inbound, url)).removed_at is None
    # When she locks the thread, and unlocks it
    form = {"lock-url": url, "lock-reason": "Heated", "decision": "lock"}
    page = await alice.post(MODERATION + "/locks", form)
    assert "Locked: replies in the thread" in page.text
    [(lock, sent_to)] = await announced(inbound, "Lock", url)
    assert (lock["object"], lock["summary"], fay.inbox in sent_to) == (url, "Heated", True)
    assert (await stored(inbound, url)).locked_at is not None
    page = await alice.post(MODERATION + "/locks", {"lock-url": url, "decision": "lock"})
    assert "That thread was locked already" in page.text
    page = await alice.post(MODERATION + "/locks", {"lock-url": url, "decision": "unlock"})
    assert "Unlocked" in page.text
    assert (await stored(inbound, url)).locked_at is None
    # When she bans sam, removing his posts
    form = {"ban-actor": sam.id, "ban-reason": "Spam", "ban-remove-posts": "on"}
    page = await alice.post(MODERATION + "/bans", form)
    assert "Banned, and their posts in the community removed." in page.text
    assert f"Unban {sam.name.title()}" in page.text
    # Then sam is no longer a follower; the Block (the community as target) is announced to
    # fay and sent to sam; his post is removed again, the followers told
    [(block, sent_to)] = await announced(inbound, "Block", sam.id)
    assert (block["object"], block["target"], block["summary"]) == (
        sam.id, inbound.urls.community("nightshift"), "Spam"
    )  # fmt: skip
    assert fay.inbox in sent_to
    assert sam.inbox not in sent_to
    async with inbound.sessions() as session:
        direct = await session.scalars(
            select(DeliveryRow.inbox)
            .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
            .where(ActivityRow.ap_type == "Block")
        )
        assert list(direct) == [sam.inbox]
        following = await session.scalars(select(FollowerRow.actor_id))
        assert list(following) == [fay.id]
    assert (await stored(inbound, url)).removed_at is not None
    assert len(await announced(inbound, "Delete", url)) == 2
    # When she lifts the ban
    page = await alice.post(MODERATION + "/bans/undo", {"actor": sam.id})
    assert "Ban lifted." in page.text
    assert "No one is banned from this community." in page.text
    [(unban, _)] = [(a, to) for a, to in await announced(inbound, "Undo", sam.id)
                    if a["object"]["type"] == "Block"]  # fmt: skip
    assert unban["object"]["object"] == sam.id
    page = await alice.post(MODERATION + "/bans/undo", {"actor": sam.id})
    assert "That actor was not banned" in page.text
    # And each decision is in the public log and in the audit, by alice
    lines = [(line["action"], line["role"]) for line in await modlog(inbound.client)]
    for action in ("removed", "restored", "locked", "unlocked", "banned", "unbanned"):
        assert (action, "coordinator") in lines
    actions = [a for who, a in await audit_actions(inbound.sessions) if who == "alice"]
    for action in ("post.remove", "post.restore", "thread.lock", "thread.unlock", "actor.ban",
                   "actor.unban"):  # fmt: skip
        assert actions.count(action) == 1, action


async def test_refusals_are_form_errors(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    await alice.get(MODERATION)
    elsewhere = f"{inbound.peer.base_url}/users/nobody/statuses/1"
    cases = [
        ("/removals", {"remove-url": elsewhere, "remove-reason": "x"}, "remove-url",
         "Night Shift Nursing holds no post"),
        ("/locks", {"lock-url": elsewhere, "decision": "lock"}, "lock-url",
         "Night Shift Nursing holds no post"),
        ("/bans", {"ban-actor": "javascript:alert(1)", "ban-reason": ""}, "ban-actor",
         "Give the actor&#39;s URL"),
        ("/bans", {"ban-actor": inbound.urls.community("nightshift")}, "ban-actor",
         "A community cannot ban itself"),
        ("/reports", {"report-url": elsewhere, "report-reason": "  "}, "report-reason",
         "Say why you report it"),
        ("/reports", {"report-url": inbound.urls.community("nightshift"), "report-reason": "x"},
         "report-url", "is on this server"),
        ("/reports", {"report-url": f"{inbound.peer.base_url}/users/nobody",
                      "report-reason": "spam"}, "report-url", "its server answered 404"),
    ]  # fmt: skip
    for path, form, field, problem in cases:
        page = await alice.post(MODERATION + path, form)
        assert page.status == 400, (path, form)
        assert f'id="f-{field}-error"' in page.text, (path, form)
        assert problem in page.text, (path, page.text)
        kept = next(v for k, v in form.items() if k.endswith(("-url", "-actor")))
        assert f'value="{kept}"' in page.text  # the value kept
    page = await alice.post(MODERATION + "/locks", {"lock-url": elsewhere, "decision": "smash"})
    assert page.status == 400
    assert await reports_kept(inbound) == []
    assert not {a for _who, a in await audit_actions(inbound.sessions)} & ACTIONS


async def test_reports_are_resolved_and_sent_from_the_page(
    inbound: Inbound, nightshift: Community, settings: Settings, remote2: RemoteServer
) -> None:
    # Given sam's relayed post, reported by a moderator elsewhere in a signed Flag
    sam, mod = inbound.peer.person("sam"), remote2.person("mod")
    await inbound.follows(nightshift, sam)
    note = await inbound.post(sam, "Buy my pills")
    status, answer = await remote2.post(mod, str(inbound.client.make_url("/c/nightshift/inbox")),
                                        {"id": f"{mod.base_url}/flags/1", "type": "Flag",
                                         "actor": mod.id, "content": "<p>Selling <b>pills</b></p>",
                                         "object": [sam.id, note["id"]]})  # fmt: skip
    assert status == 202, answer
    await inbound.process()
    [report] = await reports_kept(inbound)
    # Then the coordinator sees it: who sent it, about what, why (as text)
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert "Reports (1)" in page.text
    assert "1 open report from other servers" in page.text
    assert f'href="{mod.id}"' in page.text or f'href="{remote2.base_url}/@mod"' in page.text
    assert f'href="{note["id"]}"' in page.text
    assert "Selling pills" in page.text
    assert "<b>pills" not in page.text
    # When she resolves it
    page = await alice.post(f"{MODERATION}/reports/{report.id}/resolve")
    assert "Report resolved" in page.text
    assert "No open reports." in page.text
    [report] = await reports_kept(inbound)
    assert (report.state, report.resolved_by) == (ReportState.RESOLVED, "alice")
    assert (await alice.post(f"{MODERATION}/reports/{report.id + 1}/resolve")).status == 404
    # When she reports sam's post to sam's server
    form = {"report-url": note["id"], "report-reason": "Selling  pills"}
    page = await alice.post(MODERATION + "/reports", form)
    assert page.status == 200, page.text
    assert "Reported: the server&#39;s moderation actor sends the report" in page.text
    # Then the moderation actor's Flag is queued for sam's inbox, naming no one of ours
    async with inbound.sessions() as session:
        flags = (await session.execute(
            select(ActivityRow.ap_json, DeliveryRow.inbox)
            .join(DeliveryRow, DeliveryRow.activity_id == ActivityRow.id)
            .where(ActivityRow.ap_type == "Flag")
        )).all()  # fmt: skip
    [(sent, inbox)] = flags
    assert inbox == sam.inbox
    assert sent["actor"] == inbound.urls.moderation()
    assert (sent["object"], sent["content"]) == ([sam.id, note["id"]], "Selling pills")
    assert "alice" not in json.dumps(sent)
    # And an account copub never saw is fetched first, then reported to its server
    bob = remote2.person("bob")
    page = await alice.post(MODERATION + "/reports", {"report-url": bob.id, "report-reason": "x"})
    assert page.status == 200, page.text
    outgoing = [r for r in await reports_kept(inbound) if r.direction == ReportDirection.OUT]
    assert [(r.objects, r.reporter) for r in outgoing] == [
        ([sam.id, note["id"]], "alice"),
        ([bob.id], "alice"),
    ]
    lines = [(line["action"], line["target"]) for line in await modlog(inbound.client)]
    assert ("reported", bob.id) in lines
    actions = [a for who, a in await audit_actions(inbound.sessions) if who == "alice"]
    assert (actions.count("report.resolve"), actions.count("report.send")) == (1, 2)


async def test_an_admin_resolves_the_server_s_queue(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    # Given a Flag about an account nowhere here, in the server's queue
    mod = inbound.peer.person("mod")
    await flag(inbound, mod, ["https://else.example/users/x"], "/inbox")
    [report] = await reports_kept(inbound)
    assert report.community_id is None
    # A coordinator sees neither it nor the page
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    page = await alice.get(MODERATION)
    assert "No open reports." in page.text
    assert 'href="/console/server/reports"' not in page.text
    assert (await alice.get(SERVER_REPORTS)).status == 403
    assert (await alice.post(f"{SERVER_REPORTS}/{report.id}/resolve")).status == 403
    # An admin finds it on the Server pages, and resolves it
    ada = person(inbound.client, settings)
    await set_up(ada, await admin_link(inbound.sessions, "ada"))
    page = await ada.get(MODERATION)
    assert 'href="/console/server/reports"' in page.text
    page = await ada.get(SERVER_REPORTS)
    assert page.status == 200
    assert "https://else.example/users/x" in page.text
    assert f"Resolve report #{report.id}" in page.text
    page = await ada.post(f"{SERVER_REPORTS}/{report.id}/resolve")
    assert "Report resolved." in page.text
    assert "No open reports." in page.text
    [report] = await reports_kept(inbound)
    assert (report.state, report.resolved_by) == (ReportState.RESOLVED, "ada")
    # a report of a community's queue is not the server's to resolve here
    await flag(inbound, mod, [inbound.urls.community("nightshift")], "/inbox", n=2)
    _, theirs = await reports_kept(inbound)
    assert (await ada.post(f"{SERVER_REPORTS}/{theirs.id}/resolve")).status == 404
    assert ("ada", "server_report.resolve") in await audit_actions(inbound.sessions)


async def test_a_coordinator_of_another_community_is_refused_every_form(
    inbound: Inbound, nightshift: Community, settings: Settings
) -> None:
    # Given sam's post relayed by nightshift, banned there, and a report in its queue
    pharmacy = await factories.create_community(inbound.sessions, "pharmacy")
    sam, fay = inbound.peer.person("sam"), inbound.peer.person("fay")
    await inbound.follows(nightshift, sam, fay)
    note = await inbound.post(sam, "A tip")
    await flag(inbound, inbound.peer.person("mod"), [note["id"]], "/c/nightshift/inbox")
    [report] = await reports_kept(inbound)
    alice = await coordinator(inbound.client, settings, inbound.sessions, nightshift.id)
    await alice.get(MODERATION)
    await alice.post(MODERATION + "/bans", {"ban-actor": fay.id, "ban-reason": "x"})
    bob = await coordinator(inbound.client, settings, inbound.sessions, pharmacy.id, "bob")
    await bob.get("/console/c/pharmacy/moderation")  # his own page: a CSRF token
    forms: list[tuple[str, dict[str, str]]] = [
        ("/removals", {"remove-url": note["id"], "remove-reason": "mine"}),
        ("/removals/restore", {"url": note["id"]}),
        ("/locks", {"lock-url": note["id"], "decision": "lock"}),
        ("/bans", {"ban-actor": sam.id, "ban-reason": "", "ban-remove-posts": "on"}),
        ("/bans/undo", {"actor": fay.id}),
        ("/reports", {"report-url": note["id"], "report-reason": "mine"}),
        (f"/reports/{report.id}/resolve", {}),
    ]
    for path, form in forms:
        assert (await bob.post(MODERATION + path, form)).status == 403, path
    assert (await bob.get(MODERATION)).status == 403
    # Then nothing changed in nightshift
    row = await stored(inbound, note["id"])
    assert (row.removed_at, row.locked_at) == (None, None)
    [report] = await reports_kept(inbound)
    assert report.state == ReportState.OPEN
    async with inbound.sessions() as session:
        assert list(await session.scalars(select(FollowerRow.actor_id))) == [sam.id]
    assert not {a for who, a in await audit_actions(inbound.sessions) if who == "bob"} & ACTIONS
