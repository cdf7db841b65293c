"""``copub held``, ``copub filters`` and the moderation options of ``copub community
edit``, on the database of a running app whose inbox receives the posts: the CLI lists
what the inbox held, approves (relayed once by the server's inbox processor), rejects
(telling the author or not) and rejects them all; filters are added and removed in a
community or on the server, and hold posts; the settings are changed, the followers told
when the posting policy shows in the Group's actor document."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from actors.cli import main as copub_main
from actors.community import Community
from actors.settings import Settings
from actors.store.models import ActivityRow
from actors.store.models_moderation import HeldPostRow, HoldState
from tests import factories
from tests.conftest import ClientFactory
from tests.flows.remote import RemoteServer
from tests.moderation.inbound import Inbound, inbound_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return inbound_settings(database_url)


@pytest.fixture
async def inbound(make_client: ClientFactory, remote: RemoteServer) -> Inbound:
    return Inbound(await make_client(), remote)


@pytest.fixture
async def nightshift(inbound: Inbound) -> Community:
    return await factories.create_community(inbound.sessions)


async def copub(config_file: Path, *args: str) -> tuple[int, str]:
    """``copub --config FILE *args`` in a thread (the CLI runs its own event loop):
    (exit status, output)."""
    argv = ["--config", str(config_file), *args]
    result = await asyncio.to_thread(CliRunner().invoke, copub_main, argv)
    return result.exit_code, result.output


async def ok(config_file: Path, *args: str) -> str:
    status, output = await copub(config_file, *args)
    assert status == 0, f"copub {' '.join(args)}: {output}"
    return output


async def holds_of(inbound: Inbound, community: Community) -> list[tuple[int, str]]:
    async with inbound.sessions() as session:
        rows = await session.execute(
            select(HeldPostRow.id, HeldPostRow.state)
            .where(HeldPostRow.community_id == community.id)
            .order_by(HeldPostRow.id)
        )
        return [(hold_id, str(state)) for hold_id, state in rows]


async def sent(inbound: Inbound, activity_type: str) -> list[dict[str, Any]]:
    async with inbound.sessions() as session:
        rows = await session.scalars(
            select(ActivityRow.ap_json).where(ActivityRow.ap_type == activity_type)
        )
        return list(rows)


async def test_held_lists_approves_rejects_and_rejects_all(
    inbound: Inbound, nightshift: Community, config_file: Path
) -> None:
    sam = inbound.peer.person("sam")
    await inbound.knows(sam)
    notes = [await inbound.post(sam, f"Post {n}: <i>cheap</i>   pills") for n in range(4)]
    first, second, *_ = [hold_id for hold_id, _ in await holds_of(inbound, nightshift)]
    # the queue, the oldest first: id, author, reason, excerpt (plain text)
    output = await ok(config_file, "held", "nightshift")
    lines = output.splitlines()
    assert lines[0].split("\t") == [str(first), sam.id, "not a follower of the community",
                                     "@nightshift@cop.test Post 0: cheap pills"]  # fmt: skip
    assert lines[-1] == "4 held in nightshift; copub held approve|reject nightshift ID"
    output = await ok(config_file, "held", "list", "nightshift", "--limit", "1")
    assert "4 held in nightshift (the oldest 1 listed)" in output
    # approve: relayed once the server's processor takes it, and only once
    output = await ok(config_file, "held", "approve", "nightshift", str(first))
    assert (
        output == f"approved #{first} ({notes[0]['id']}): the server relays it to the followers\n"
    )
    await inbound.process()
    assert await inbound.outcome(nightshift, notes[0]) == "relayed"
    assert await inbound.announces(notes[0]) == 2
    status, output = await copub(config_file, "held", "approve", "nightshift", str(first))
    assert status == 1
    assert f"no post #{first} waits in the queue of nightshift" in output
    assert await inbound.process() == 0
    assert await inbound.announces(notes[0]) == 2
    # reject, telling the author
    output = await ok(config_file, "held", "reject", "nightshift", str(second), "--reason",
                      "Not about nursing", "--tell-author")  # fmt: skip
    assert "; the author is sent a Reject" in output
    [reject] = await sent(inbound, "Reject")
    assert (reject["to"], reject["summary"]) == ([sam.id], "Not about nursing")
    # reject all
    output = await ok(config_file, "held", "reject-all", "nightshift", "--reason", "spam")
    assert output == "rejected 2 held posts in nightshift\n"
    assert (
        await ok(config_file, "held", "nightshift") == "no posts wait in the queue of nightshift\n"
    )
    assert [state for _, state in await holds_of(inbound, nightshift)] == [
        HoldState.APPROVED, HoldState.REJECTED, HoldState.REJECTED, HoldState.REJECTED
    ]  # fmt: skip
    assert [await inbound.announces(n) for n in notes[1:]] == [0, 0, 0]
    # the operator's decisions in the log, by role
    async with inbound.client.get("/c/nightshift/modlog", headers={"Accept": "application/json"}
                                  ) as answer:  # fmt: skip
        items = (await answer.json())["items"]
    decided = [(i["action"], i["role"]) for i in items if i["action"] != "held"]
    assert decided == [("rejected", "operator")] * 3 + [("approved", "operator")]
    # mistakes say what is wrong
    status, output = await copub(config_file, "held", "nowhere")
    assert (status, output.strip()) == (1, "Error: no community named 'nowhere'")
    status, output = await copub(config_file, "held", "approve", "nightshift", "99999999999")
    assert status == 2
    assert "ID" in output


async def test_filters_are_added_listed_removed_and_hold_posts(
    inbound: Inbound, nightshift: Community, config_file: Path
) -> None:
    fay = inbound.peer.person("fay")
    await inbound.follows(nightshift, fay)
    assert await ok(config_file, "filters", "list") == "no filters hold posts in the whole server\n"
    output = await ok(config_file, "filters", "add", "nightshift", "word", "Free  Money")
    assert output == "posts with word:free money are held in nightshift\n"
    output = await ok(config_file, "filters", "add", "nightshift", "word", "free money")
    assert "already; nothing changed" in output
    output = await ok(config_file, "filters", "add", "--server", "domain", "https://Spam.Example/x")
    assert output == "posts with domain:spam.example are held in the whole server\n"
    assert await ok(config_file, "filters", "list", "nightshift") == (
        "word\tfree money\tnightshift\ndomain\tspam.example\tserver\n"
    )
    assert await ok(config_file, "filters", "list") == "domain\tspam.example\tserver\n"
    # what a filter does: hold, not drop
    money = await inbound.post(fay, "Free money for nurses")
    link = await inbound.post(fay, "Look", link="https://deals.spam.example/now")
    plain = await inbound.post(fay, "A real tip")
    assert [await inbound.outcome(nightshift, n) for n in (money, link, plain)] == [
        "held", "held", "relayed"
    ]  # fmt: skip
    assert await inbound.reason(nightshift, link) == "server filter domain:spam.example"
    # removed, it holds no more
    output = await ok(config_file, "filters", "remove", "nightshift", "word", "FREE MONEY")
    assert output == "removed word:free money from nightshift\n"
    again = await inbound.post(fay, "Free money, again")
    assert await inbound.outcome(nightshift, again) == "relayed"
    # mistakes
    status, output = await copub(config_file, "filters", "remove", "nightshift", "word", "gone")
    assert (status, output.strip()) == (1, "Error: there is no filter word:gone in nightshift")
    status, output = await copub(config_file, "filters", "add", "nightshift", "colour", "red")
    assert (status, output.strip()) == (1, "Error: a filter is a 'word' or a 'domain'")
    status, output = await copub(config_file, "filters", "add", "nightshift", "domain", "not one")
    assert (status, output.strip()) == (1, "Error: give a domain, e.g. spam.example")
    status, output = await copub(config_file, "filters", "add", "word", "spam")
    assert status == 2
    assert "SLUG KIND VALUE, or --server KIND VALUE" in output


async def test_community_edit_sets_the_moderation_settings(
    inbound: Inbound, nightshift: Community, config_file: Path
) -> None:
    await inbound.follows(nightshift, inbound.peer.person("fay"))
    output = await ok(config_file, "community", "edit", "nightshift", "--posting-policy",
                      "coordinators", "--hold-first-posts", "--posts-per-hour", "5",
                      "--modlog-names")  # fmt: skip
    assert output == "updated @nightshift@cop.test; its followers get the new profile\n"
    [update] = await sent(inbound, "Update")
    assert update["object"]["postingRestrictedToMods"] is True
    output = await ok(config_file, "community", "show", "nightshift")
    assert "posting:   coordinators\n" in output
    assert "first:     a first post is held\n" in output
    assert "limit:     5 posts an hour a poster\n" in output
    assert "modlog:    names coordinators\n" in output
    # what the Group's document does not show is changed without telling anyone
    output = await ok(config_file, "community", "edit", "nightshift", "--posts-per-hour", "0",
                      "--no-hold-first-posts", "--no-modlog-names")  # fmt: skip
    assert output == "updated @nightshift@cop.test\n"
    assert len(await sent(inbound, "Update")) == 1
    output = await ok(config_file, "community", "show", "nightshift")
    assert "limit:     none\n" in output
    assert "modlog:    roles only\n" in output
    # back to followers: told again; the same again: nothing
    await ok(config_file, "community", "edit", "nightshift", "--posting-policy", "followers")
    assert [u["object"]["postingRestrictedToMods"] for u in await sent(inbound, "Update")] == [
        True, False
    ]  # fmt: skip
    output = await ok(config_file, "community", "edit", "nightshift", "--posting-policy",
                      "followers")  # fmt: skip
    assert output == "@nightshift@cop.test: nothing changed\n"
    for bad in (["--posting-policy", "nobody"], ["--posts-per-hour", "-1"]):
        status, _ = await copub(config_file, "community", "edit", "nightshift", *bad)
        assert status == 2, bad
