"""The People page: follow requests of a closed community approved and rejected (Accept or
Reject queued as ``copub followers approve|reject`` queues them), followers by page,
blocks with a reason (as ``copub block``), coordinators invited and removed, event
participants; each action in the audit log, and nothing of it open to another
community's coordinator."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import attendance
from actors.community import Community
from actors.publishing.common import local_object
from actors.settings import Settings
from actors.store import accounts, queries, social
from actors.store.models import ActivityRow, BlockRow, DeliveryRow, RemoteActorRow
from actors.urls import Urls
from tests import factories
from tests.console.helpers import Person, audit_actions, coordinator, person
from tests.flows.copub import run_cli

Sessions = async_sessionmaker[AsyncSession]
PEOPLE = "/console/c/nightshift/people"


def remote(name: str, host: str = "social.example") -> RemoteActorRow:
    actor = f"https://{host}/users/{name}"
    return RemoteActorRow(
        ap_id=actor,
        inbox=f"{actor}/inbox",
        shared_inbox=None,
        handle=f"{name}@{host}",
        name=name.title(),
        url=f"https://{host}/@{name}",
        actor_type="Person",
        ap_json={"id": actor, "type": "Person"},
        fetched_at=datetime.now(UTC),
    )


async def follows(db: Sessions, community: Community, *names: str, host: str = "social.example"
                  ) -> list[str]:  # fmt: skip
    """``names`` follow the community (pending if it is closed), as the inbox stores it."""
    actors = []
    async with db.begin() as session:
        for name in names:
            row = await social.upsert_remote_actor(session, remote(name, host))
            follow_id = f"{row.ap_id}/follows/{community.slug}"
            await social.record_follow(
                session, community.id, row, follow_id, closed=community.closed
            )
            actors.append(row.ap_id)
    return actors


async def state_of(db: Sessions, community: Community, actor: str) -> str | None:
    async with db() as session:
        row = await social.get_follower(session, community.id, actor)
        return str(row.state) if row is not None else None


async def replies_to(db: Sessions, actor: str) -> list[tuple[dict[str, Any], list[str]]]:
    """Activities queued for ``actor`` (their ids left out), with their deliveries' inboxes."""
    async with db() as session:
        rows = list(await session.scalars(select(ActivityRow).order_by(ActivityRow.id)))
        found = []
        for row in rows:
            if row.ap_json.get("to") != [actor]:
                continue
            inboxes = await session.scalars(
                select(DeliveryRow.inbox).where(DeliveryRow.activity_id == row.id)
            )
            found.append(({k: v for k, v in row.ap_json.items() if k != "id"}, list(inboxes)))
        return found


def swap(value: Any, old: str, new: str) -> Any:
    """``value`` with one actor's id put for another's (to compare two actors' replies)."""
    if isinstance(value, dict):
        return {k: swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(swap(v, old, new) for v in value)
    return value.replace(old, new) if isinstance(value, str) else value


async def test_approve_and_reject_queue_what_the_cli_queues(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift", closed=True)
    ana, ben, cai, dee = await follows(db, nightshift, "ana", "ben", "cai", "dee")
    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.get(PEOPLE)
    assert page.status == 200
    assert "4 waiting" in page.text
    assert "Approve Ana" in page.text
    assert "Reject Dee" in page.text
    page = await alice.post(PEOPLE + "/requests", {"actor": ana, "decision": "approve"})
    assert page.status == 200
    assert "Approved" in page.text
    await alice.post(PEOPLE + "/requests", {"actor": ben, "decision": "reject"})
    await run_cli(config_file, "followers", "approve", "nightshift", cai)
    await run_cli(config_file, "followers", "reject", "nightshift", dee)
    # the same rows as the CLI's
    assert [await state_of(db, nightshift, a) for a in (ana, ben, cai, dee)] == [
        "accepted",
        None,
        "accepted",
        None,
    ]
    # the same activities, to the same inboxes
    [(accept, accept_inboxes)] = await replies_to(db, ana)
    assert accept["type"] == "Accept"
    assert accept_inboxes == [f"{ana}/inbox"]
    assert accept["object"] == {"id": f"{ana}/follows/nightshift", "type": "Follow",
                                "actor": ana, "object": Urls(settings.server.base_url
                                                             ).community("nightshift")}  # fmt: skip
    assert swap(await replies_to(db, ana), ana, cai) == await replies_to(db, cai)
    [(reject, _)] = await replies_to(db, ben)
    assert reject["type"] == "Reject"
    assert swap(await replies_to(db, ben), ben, dee) == await replies_to(db, dee)
    page = await alice.get(PEOPLE)
    assert "No follow requests wait" in page.text
    assert "2 followers." in page.text
    actions = [action for who, action in await audit_actions(db) if who == "alice"]
    assert [a for a in actions if a.startswith("follower.")] == [
        "follower.approve",
        "follower.reject",
    ]


async def test_removing_a_follower_queues_what_the_cli_queues(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    """``copub followers remove`` and the People page's Remove: the follower is gone and
    gets a Reject of their accepted Follow; a pending request or a stranger is refused."""
    nightshift = await factories.create_community(db, "nightshift", closed=True)
    ana, ben, cai = await follows(db, nightshift, "ana", "ben", "cai")
    for actor in (ana, ben):
        await run_cli(config_file, "followers", "approve", "nightshift", actor)
    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.post(PEOPLE + "/followers/remove", {"actor": ana})
    assert page.status == 200
    assert "Removed" in page.text
    out = await run_cli(config_file, "followers", "remove", "nightshift", ben)
    assert f"removed {ben}" in out
    assert [await state_of(db, nightshift, a) for a in (ana, ben)] == [None, None]
    [_accept, (reject, inboxes)] = await replies_to(db, ana)
    assert reject["type"] == "Reject"
    assert inboxes == [f"{ana}/inbox"]
    assert reject["object"]["id"] == f"{ana}/follows/nightshift"
    assert swap(await replies_to(db, ana), ana, ben) == await replies_to(db, ben)
    out = await run_cli(config_file, "followers", "remove", "nightshift", cai, ok=False)
    assert "no approved follower" in out
    assert await state_of(db, nightshift, cai) == "pending"
    assert "follower.remove" in [
        action for who, action in await audit_actions(db) if who == "alice"
    ]


async def test_a_request_answered_already_is_refused_and_nothing_is_sent(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift", closed=True)
    [ana] = await follows(db, nightshift, "ana")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get(PEOPLE)
    await run_cli(config_file, "followers", "reject", "nightshift", ana)  # meanwhile
    page = await alice.post(PEOPLE + "/requests", {"actor": ana, "decision": "approve"})
    assert page.status == 409
    assert "no longer pending" in page.text
    assert await state_of(db, nightshift, ana) is None
    assert [a["type"] for a, _ in await replies_to(db, ana)] == ["Reject"]
    assert "follower.approve" not in [action for _, action in await audit_actions(db)]


async def test_followers_come_by_pages(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    names = [f"p{n:02d}" for n in range(53)]
    await follows(db, nightshift, *names)
    alice = await coordinator(console, settings, db, nightshift.id)
    first = await alice.get(PEOPLE)
    assert "53 followers." in first.text
    assert "Page 1 of 2" in first.text
    assert "@p49@social.example" in first.text
    assert "@p50@social.example" not in first.text
    second = await alice.get(PEOPLE + "?page=2")
    assert "Page 2 of 2" in second.text
    shown = re.findall(r"@(p\d\d)@social\.example", second.text)
    assert shown == ["p50", "p51", "p52"]


async def test_blocks_with_a_reason_as_copub_block(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    pharmacy = await factories.create_community(db, "pharmacy")
    [spam] = await follows(db, nightshift, "spam", host="spam.example")
    [spam_at_pharmacy] = await follows(db, pharmacy, "spam", host="spam.example")
    [ana] = await follows(db, nightshift, "ana")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get(PEOPLE)
    form = {"target": "@Spam.Example", "reason": "Advertising  in every reply"}
    page = await alice.post(PEOPLE + "/blocks", form)
    assert page.status == 200
    assert "Blocked." in page.text
    assert "spam.example" in page.text
    assert "Advertising in every reply" in page.text
    # the community's block: its followers there are gone, not the other community's
    assert await state_of(db, nightshift, spam) is None
    assert await state_of(db, pharmacy, spam_at_pharmacy) == "accepted"
    assert await state_of(db, nightshift, ana) == "accepted"
    async with db() as session:
        assert await social.is_blocked(session, nightshift.id, "https://spam.example/u/x")
        assert not await social.is_blocked(session, pharmacy.id, "https://spam.example/u/x")
    # an actor blocked from the command line shows here, and is lifted here
    await run_cli(config_file, "block", ana, "--community", "nightshift", "--reason", "Rude")
    page = await alice.get(PEOPLE)
    assert f"Lift the block on {ana}" in page.text
    assert "Rude" in page.text
    async with db.begin() as session:  # a block older than the check of what is blocked
        await social.add_block(session, nightshift.id, "domain", "someone@old.example")
    page = await alice.get(PEOPLE)
    assert "Lift the block on someone@old.example" in page.text
    await alice.post(PEOPLE + "/blocks/undo", {"kind": "domain", "value": "someone@old.example"})
    await alice.post(PEOPLE + "/blocks/undo", {"kind": "actor", "value": ana})
    await alice.post(PEOPLE + "/blocks/undo", {"kind": "domain", "value": "spam.example"})
    async with db() as session:
        assert await social.list_blocks(session, nightshift.id) == []
    actions = [action for who, action in await audit_actions(db) if who == "alice"]
    assert [a for a in actions if a.startswith("block.")] == ["block.add"] + ["block.undo"] * 3


async def test_a_bad_block_comes_back_with_its_error_and_nothing_written(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get(PEOPLE)
    for target in ("alice@social.example", "not a domain", "https://"):
        page = await alice.post(PEOPLE + "/blocks", {"target": target, "reason": "why"})
        assert page.status == 400, target
        assert 'id="f-target-error"' in page.text
        assert "actor&#39;s URL" in page.text
        assert 'value="why"' in page.text
    page = await alice.post(PEOPLE + "/blocks", {"target": "x.example", "reason": "y" * 501})
    assert page.status == 400
    assert 'id="f-reason-error"' in page.text
    assert 'value="x.example"' in page.text
    async with db() as session:
        assert (await session.scalars(select(BlockRow))).all() == []
    assert not [a for _, a in await audit_actions(db) if a.startswith("block.")]


async def test_a_coordinator_invites_and_removes_a_coordinator(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get(PEOPLE)
    page = await alice.post(PEOPLE + "/coordinators/invite")
    assert page.status == 200
    assert "valid 7 days" in page.text
    found = re.search(r'<code id="invite-link"[^>]*>https://cop\.test(/console/invite/[^<]+)<',
                      page.text)  # fmt: skip
    assert found, page.text
    assert 'data-copy="invite-link"' in page.text
    assert "/static/copy-value.js" in page.text
    assert found.group(1) not in (await alice.get(PEOPLE)).text  # shown once
    # the link makes a coordinator of whoever opens it first
    bob = person(console, settings)
    await bob.get(found.group(1))
    await bob.post(found.group(1), {"username": "bob", "password": "correct horse battery",
                                    "confirm": "correct horse battery"})  # fmt: skip
    assert (await bob.get(PEOPLE)).status == 200
    async with db.begin() as session:
        row = await accounts.account_named(session, "bob")
        assert row is not None
        row.actor_url = "https://social.example/users/bob"
        await queries.add_moderator(session, nightshift.id, row.actor_url)
        bob_id = row.id
    page = await alice.get(PEOPLE)
    assert "Remove bob" in page.text
    assert "Remove alice" in page.text
    page = await alice.post(PEOPLE + "/coordinators/remove", {"account": str(bob_id)})
    assert page.status == 200
    assert "coordinator was removed" in page.text
    assert (await bob.get(PEOPLE)).status == 403
    async with db() as session:
        assert [r.username for r in await accounts.coordinators_of(session, nightshift.id)] == [
            "alice"
        ]
        assert await queries.list_moderators(session, nightshift.id) == []
    # a second removal finds no one, and writes nothing
    assert (await alice.post(PEOPLE + "/coordinators/remove", {"account": str(bob_id)})
            ).status == 409  # fmt: skip
    actions = [action for who, action in await audit_actions(db) if who == "alice"]
    wanted = ("invite.create", "coordinator.remove")
    assert [a for a in actions if a in wanted] == list(wanted)


async def test_event_participants(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    out = await run_cli(
        config_file, "publish", "nightshift", "event", "--title", "Simulation workshop",
        "--content", "Hands-on.", "--start", "2031-05-06T14:00", "--timezone", "Europe/Paris",
        "--capacity", "10",
    )  # fmt: skip
    event_id = out.strip().removeprefix("published ")
    urls = Urls(settings.server.base_url)
    async with db.begin() as session:
        community = await queries.get_community(session, "nightshift")
        assert community is not None
        event = await local_object(session, urls, community, event_id, "event")
        for name in ("ana", "ben"):
            actor = await social.upsert_remote_actor(session, remote(name))
            join = {"id": f"{actor.ap_id}/joins/1", "type": "Join", "actor": actor.ap_id,
                    "object": event_id}  # fmt: skip
            await attendance.join(session, urls, community, event, join, actor_id=actor.ap_id,
                                  inbox=actor.inbox)  # fmt: skip
    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.get(PEOPLE)
    item = event_id.rsplit("/", 1)[-1]
    assert f'href="{PEOPLE}/events/{item}">Simulation workshop</a>' in page.text
    assert "2 of 10 participants" in page.text
    page = await alice.get(f"{PEOPLE}/events/{item}")
    assert page.status == 200
    assert "Participants of Simulation workshop" in page.text
    assert re.findall(r"@(\w+)@social\.example", page.text) == ["ana", "ben"]
    assert (await alice.get(f"{PEOPLE}/events/nothing-here")).status == 404


async def test_another_communitys_coordinator_gets_403_and_changes_nothing(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift", closed=True)
    pharmacy = await factories.create_community(db, "pharmacy")
    [ana] = await follows(db, nightshift, "ana")
    alice = await coordinator(console, settings, db, nightshift.id)
    async with db() as session:
        [alice_row] = await accounts.coordinators_of(session, nightshift.id)
    bob: Person = await coordinator(console, settings, db, pharmacy.id, "bob")
    page = await bob.get(PEOPLE)
    assert page.status == 403
    assert "Ana" not in page.text
    assert "nightshift" not in page.text.lower()
    assert (await bob.get(PEOPLE + "/events/anything")).status == 403
    await bob.get("/console/c/pharmacy/people")  # his own page, for a form token
    for path, form in [
        ("/requests", {"actor": ana, "decision": "approve"}),
        ("/blocks", {"target": "social.example", "reason": "no"}),
        ("/blocks/undo", {"kind": "domain", "value": "social.example"}),
        ("/coordinators/invite", {}),
        ("/coordinators/remove", {"account": str(alice_row.id)}),
    ]:
        assert (await bob.post(PEOPLE + path, form)).status == 403, path
    assert await state_of(db, nightshift, ana) == "pending"
    async with db() as session:
        assert (await session.scalars(select(BlockRow))).all() == []
        assert await accounts.open_invites(session, nightshift.id, datetime.now(UTC)) == []
        assert [r.username for r in await accounts.coordinators_of(session, nightshift.id)] == [
            "alice"
        ]
    assert alice.cookies  # alice stays signed in and in charge
    assert (await alice.get(PEOPLE)).status == 200


async def test_copub_block_refuses_what_the_console_refuses(
    config_file: Path, db: Sessions
) -> None:
    await factories.create_community(db, "nightshift")
    out = await run_cli(config_file, "block", "alice@social.example", ok=False)
    assert "actor's URL" in out
    assert "domain" in out
    out = await run_cli(config_file, "block", "@Social.Example", "--reason", "Spam  waves")
    assert "blocked domain social.example" in out
    async with db() as session:
        [row] = await social.list_blocks(session, None)
    assert (row.kind, row.value, row.reason) == ("domain", "social.example", "Spam waves")
