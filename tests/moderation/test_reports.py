"""Reports: Flags received into a queue, and sent.

In: a ``Flag`` as Mastodon, GoToSocial, Misskey, Lemmy and Mbin send it
(tests/fixtures/activities/moderation/), signed by a peer and posted to the real inbox,
lands in ONE report in the queue of the community it concerns (else the server's); a Flag
about a post we do not have is kept with its URL; the same Flag twice is one report; the
reason is plain text, capped; the list of what is reported is bounded.

Out: ``copub report SLUG URL --reason`` queues a ``Flag`` by the moderation actor, signed
with the server's key, which the peer verifies; it names the account then the post (what
Mastodon's ``flag.rb`` reads), one ``to`` (Lemmy's ``deserialize_one``), the reason in
``content`` and ``summary``, and not the coordinator. The log gets a ``reported`` line.

Resolve: ``copub reports resolve ID`` takes a report out of the open queue.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from actors.cli import main as copub_main
from actors.community import Community
from actors.moderation import reports
from actors.moderation.modlog import Moderator
from actors.settings import Settings
from actors.store import queries, social
from actors.store.models import ActivityRow, DeliveryRow
from actors.store.models_moderation import ModAction, ModlogRow, ReportDirection, ReportRow
from actors.urls import Urls
from actors.web.keys import REMOTE
from federation.intake import Limits
from federation.vocab import JSON
from tests import factories
from tests.conftest import ClientFactory
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.moderation.inbound import Inbound, inbound_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activities" / "moderation"
RECORDED_HOST = "https://copub.example"
RECORDED_SLUG = "hospital"
SLUG = "nightshift"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return inbound_settings(database_url)


@pytest.fixture
async def inbound(make_client: ClientFactory, remote: RemoteServer) -> Inbound:
    return Inbound(await make_client(), remote)


@pytest.fixture
async def nightshift(inbound: Inbound) -> Community:
    return await factories.create_community(inbound.sessions)


def recorded_flag(name: str, inbound: Inbound, reporter: Person) -> JSON:
    """A recorded Flag, about this server's ``nightshift``, sent by ``reporter`` (its id
    on the reporter's origin, as the inbox requires)."""
    text = (FIXTURES / name).read_text()
    text = text.replace(RECORDED_HOST, inbound.urls.base_url)
    text = text.replace(f"/c/{RECORDED_SLUG}", f"/c/{SLUG}")
    flag: JSON = json.loads(text)
    flag["actor"] = reporter.id
    flag["id"] = f"{reporter.base_url}/flags/{name.removesuffix('.json')}"
    return flag


async def deliver(inbound: Inbound, reporter: Person, flag: JSON, path: str) -> tuple[int, Any]:
    """POST ``flag`` signed by ``reporter`` to ``path`` and apply what was accepted."""
    status, answer = await inbound.peer.post(reporter, str(inbound.client.make_url(path)), flag)
    await inbound.process()
    return status, answer


async def kept(inbound: Inbound) -> list[ReportRow]:
    async with inbound.sessions() as session:
        return list(await session.scalars(select(ReportRow).order_by(ReportRow.id)))


def object_url(inbound: Inbound, oid: str) -> str:
    return inbound.urls.object(SLUG, oid)


# -- in: each software's shape ----------------------------------------------------------------

# (fixture, the inbox it goes to as that software sends it, the reason, what is reported)
SHAPES = [
    pytest.param(
        "mastodon-flag.json", "/c/nightshift/inbox",
        "Every story in this community links to the same pharmacy shop.",
        ["actor", "KReOJ4mqgfLE", "Wd82pQs0LxVa"], id="mastodon",
    ),
    pytest.param(
        "gotosocial-flag.json", "/c/nightshift/inbox",
        "Posting the same advert over and over.", ["actor", "KReOJ4mqgfLE"], id="gotosocial",
    ),
    pytest.param(
        "misskey-flag.json", "/c/nightshift/inbox",
        "advertising, not a story", ["actor", "KReOJ4mqgfLE"], id="misskey",
    ),
    pytest.param(
        "lemmy-flag-page.json", "/inbox",
        "Advertising, not a story from practice", ["KReOJ4mqgfLE"], id="lemmy",
    ),
    pytest.param(
        "mbin-flag-entry.json", "/inbox",
        "Spam: the same link in every thread", ["KReOJ4mqgfLE"], id="mbin",
    ),
]  # fmt: skip


@sqlite_only
@pytest.mark.parametrize(("name", "path", "reason", "reported"), SHAPES)
async def test_each_software_s_flag_lands_in_the_community_s_queue(
    inbound: Inbound, nightshift: Community, name: str, path: str, reason: str,
    reported: list[str],
) -> None:  # fmt: skip
    # Given a Flag as this software sends it, about the community and its posts
    reporter = inbound.peer.person("reporter")
    flag = recorded_flag(name, inbound, reporter)
    # When it reaches the inbox it is sent to
    status, answer = await deliver(inbound, reporter, flag, path)
    # Then it is accepted, and kept as one open report in the community's queue
    assert status == 202, answer
    [row] = await kept(inbound)
    assert (row.community_id, row.direction, row.activity_id) == (
        nightshift.id, ReportDirection.IN, flag["id"]
    )  # fmt: skip
    assert row.reporter == reporter.id
    assert reason in row.content  # Misskey's reason comes after the note's URL
    expected = [
        inbound.urls.community(SLUG) if r == "actor" else object_url(inbound, r) for r in reported
    ]
    assert row.objects == expected  # the posts are kept though this copub has none of them
    async with inbound.sessions() as session:
        [listed] = await reports.open_reports(session, nightshift.id, 10, 0)
        assert listed.id == row.id
        assert await reports.open_reports(session, None, 10, 0) == []


async def test_a_flag_about_nothing_of_ours_goes_to_the_server_s_queue_with_its_urls(
    inbound: Inbound, nightshift: Community, remote2: RemoteServer
) -> None:
    # Given a Mastodon-style Flag, to the shared inbox, about a remote account and a post
    # this copub never saw
    reporter = inbound.peer.person("mod")
    spammer = remote2.person("spammer")
    post = f"{spammer.id}/statuses/404"
    flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{reporter.base_url}/flags/elsewhere",
        "type": "Flag",
        "actor": reporter.id,
        "content": "<p>Spam <b>everywhere</b></p>",
        "object": [spammer.id, post],
    }
    status, answer = await deliver(inbound, reporter, flag, "/inbox")
    # Then it is kept, in the server's queue, with both URLs and the reason as plain text
    assert status == 202, answer
    [row] = await kept(inbound)
    assert row.community_id is None
    assert row.objects == [spammer.id, post]
    assert row.content == "Spam everywhere"
    async with inbound.sessions() as session:
        assert [r.id for r in await reports.open_reports(session, None, 10, 0)] == [row.id]
        assert await reports.open_reports(session, nightshift.id, 10, 0) == []


async def test_a_post_the_community_relayed_brings_the_report_to_its_queue(
    inbound: Inbound, nightshift: Community, remote2: RemoteServer
) -> None:
    # Given sam's post, relayed by the community
    sam = inbound.peer.person("sam")
    await inbound.follows(nightshift, sam)
    note = await inbound.post(sam, "Buy my pills")
    assert await inbound.outcome(nightshift, note) == "relayed"
    # When another server reports the post alone, to the shared inbox
    reporter = remote2.person("mod")
    flag = {
        "id": f"{reporter.base_url}/flags/relayed",
        "type": "Flag",
        "actor": reporter.id,
        "object": {"id": note["id"], "type": "Note"},
        "summary": "spam",
    }
    status, answer = await deliver_from(inbound, remote2, reporter, flag)
    # Then the report is in the community's queue
    assert status == 202, answer
    [row] = await kept(inbound)
    assert (row.community_id, row.objects, row.content) == (nightshift.id, [note["id"]], "spam")


async def deliver_from(
    inbound: Inbound, peer: RemoteServer, who: Person, flag: JSON
) -> tuple[int, Any]:
    status, answer = await peer.post(who, str(inbound.client.make_url("/inbox")), flag)
    await inbound.process()
    return status, answer


async def test_the_same_flag_twice_is_one_report(inbound: Inbound, nightshift: Community) -> None:
    reporter = inbound.peer.person("reporter")
    flag = recorded_flag("mastodon-flag.json", inbound, reporter)
    # When the same Flag reaches the community's inbox and then the shared inbox
    for path in ("/c/nightshift/inbox", "/inbox"):
        status, answer = await deliver(inbound, reporter, flag, path)
        assert status == 202, answer
    # Then it is one report
    assert len(await kept(inbound)) == 1


async def test_the_reason_is_plain_text_capped_and_the_list_bounded(
    inbound: Inbound, nightshift: Community
) -> None:
    # Given a Flag with a long HTML reason with a script, and 500 entries, many repeated
    reporter = inbound.peer.person("reporter")
    story = object_url(inbound, "abc")
    many = [f"{reporter.base_url}/statuses/{n % 100}" for n in range(500)]
    flag = {
        "id": f"{reporter.base_url}/flags/big",
        "type": "Flag",
        "actor": reporter.id,
        "content": "<script>alert(1)</script>\u0007Bad&amp;" + "x" * 10_000,
        "object": [story, 42, "javascript:alert(1)", *many],
    }
    status, answer = await deliver(inbound, reporter, flag, "/inbox")
    assert status == 202, answer
    # Then the reason is text without markup or control characters, at most the cap
    [row] = await kept(inbound)
    limits = Limits()
    assert row.content.startswith("alert(1) Bad&xxx")
    assert "<" not in row.content
    assert "\u0007" not in row.content
    assert len(row.content) <= limits.max_report_chars
    # And what is reported: safe URLs only, no repeats, at most [limits] max_list_items
    assert row.objects[0] == story
    assert len(row.objects) == limits.max_list_items == len(set(row.objects))
    assert all(url.startswith("http") for url in row.objects)
    assert row.community_id == nightshift.id  # its first object is the community's


def test_read_flag_reads_each_shape_of_object_and_reason() -> None:
    urls = Urls("https://cop.test")
    base = {"id": "https://o.example/f/1", "type": "Flag", "actor": "https://o.example/u/a"}
    one = reports.read_flag({**base, "object": "https://o.example/p/1", "summary": "s"}, urls)
    assert (one.objects, one.content) == (("https://o.example/p/1",), "s")
    embedded = reports.read_flag(
        {**base, "object": [{"id": "https://o.example/p/2"}], "content": None, "summary": "t"},
        urls,
    )
    assert (embedded.objects, embedded.content) == (("https://o.example/p/2",), "t")
    with pytest.raises(reports.InvalidReport):
        reports.read_flag({**base, "object": ["mailto:x@o.example"]}, urls)


# -- queues: list and resolve -------------------------------------------------------------------


def cli(config_file: Path, *args: str) -> str:
    result = CliRunner().invoke(copub_main, ["--config", str(config_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_a_coordinator_lists_and_resolves_reports(
    inbound: Inbound, nightshift: Community, config_file: Path
) -> None:
    # Given a report in the community's queue and one in the server's
    reporter = inbound.peer.person("reporter")
    flag = recorded_flag("mastodon-flag.json", inbound, reporter)
    await deliver(inbound, reporter, flag, "/c/nightshift/inbox")
    other = {**flag, "id": flag["id"] + "-2", "object": ["https://else.example/u/x"]}
    await deliver(inbound, reporter, other, "/inbox")
    mine, servers = await kept(inbound)
    # When the operator lists them
    listed = await asyncio.to_thread(cli, config_file, "reports", SLUG)
    assert f"#{mine.id}\t" in listed
    assert "pharmacy shop" in listed
    assert f"#{servers.id}\t" not in listed
    assert f"#{servers.id}\t" in await asyncio.to_thread(cli, config_file, "reports")
    # And resolves the community's
    out = await asyncio.to_thread(cli, config_file, "reports", "resolve", str(mine.id))
    assert out.strip() == f"report #{mine.id} resolved"
    # Then it leaves the open queue, and shows resolved with --all
    assert f"#{mine.id}\t" not in await asyncio.to_thread(cli, config_file, "reports", SLUG)
    everything = await asyncio.to_thread(cli, config_file, "reports", SLUG, "--all")
    assert f"#{mine.id}\t" in everything
    assert "resolved by operator" in everything
    async with inbound.sessions() as session:
        row = await session.get(ReportRow, mine.id)
        assert row is not None
        assert row.resolved_at is not None
        assert row.resolved_by == "operator"


async def test_resolve_keeps_to_its_queue(inbound: Inbound, nightshift: Community) -> None:
    reporter = inbound.peer.person("reporter")
    flag = recorded_flag("gotosocial-flag.json", inbound, reporter)
    await deliver(inbound, reporter, flag, "/c/nightshift/inbox")
    [row] = await kept(inbound)
    ruth = Moderator("ruth", "coordinator")
    async with inbound.sessions.begin() as session:
        # a coordinator of the server's queue, or of another community, finds no such report
        with pytest.raises(reports.NoSuchReport):
            await reports.resolve(session, row.id, ruth, queue=None)
        with pytest.raises(reports.NoSuchReport):
            await reports.resolve(session, row.id + 1, ruth, queue=nightshift.id)
        done = await reports.resolve(session, row.id, ruth, queue=nightshift.id)
        again = await reports.resolve(session, row.id, Moderator("sam", "admin"))
    assert done.resolved_by == again.resolved_by == "ruth"  # resolving again changes nothing
    async with inbound.sessions() as session:
        assert await reports.open_reports(session, nightshift.id, 10, 0) == []


# -- out -----------------------------------------------------------------------------------------


async def test_a_report_out_reaches_the_author_s_server_from_the_moderation_actor(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given alice's post, relayed by the community
    note = remote.note(follower, "Cheap pills here", mention=copub.mention(SLUG))
    create = await remote.send_create(follower, copub.inbox(SLUG), note)
    await copub.processed(create["id"])
    # When a coordinator reports it to alice's server
    out = await copub.cli("report", SLUG, note["id"], "--reason", "Selling  pills\n")
    assert out.strip().startswith(f"reported {follower.id} {note['id']} to {remote.shared_inbox}")
    # Then alice's server gets a Flag it verifies, signed for the moderation actor
    [got] = await remote.wait_for(lambda received: [d for d in received if d.type == "Flag"])
    assert got.ok, got.error
    assert got.signer == copub.urls.moderation() == got.activity["actor"]
    assert got.path == "/inbox"  # the shared inbox
    flag = got.activity
    # As Mastodon reads it: the account first, then the post; the reason in content
    assert flag["object"] == [follower.id, note["id"]]
    assert flag["content"] == "Selling pills"
    assert flag["@context"] == "https://www.w3.org/ns/activitystreams"
    assert flag["id"].startswith(copub.urls.moderation() + "/")  # the actor's host
    # As Lemmy reads it: exactly one `to`, the reason in summary
    assert flag["summary"] == "Selling pills"
    assert flag["to"] == [follower.id]  # the post names no community of its own
    # And nothing names who reported it
    assert "operator" not in json.dumps(flag)
    # The report is kept (out) and the log has its line
    async with copub.sessions() as session:
        [row] = list(await session.scalars(select(ReportRow)))
        line = await session.scalar(select(ModlogRow).where(ModlogRow.action == ModAction.REPORTED))
    assert (row.direction, row.activity_id, row.content) == (
        ReportDirection.OUT, flag["id"], "Selling pills"
    )  # fmt: skip
    assert line is not None
    assert (line.target, line.reason) == (note["id"], "Selling pills")
    # The Mastodon-like peer could find the moderation actor by its handle (Mastodon does)
    assert await remote.discover(f"moderation@{copub.urls.domain}") is not None


async def test_a_report_of_a_post_in_a_lemmy_community_is_addressed_to_it(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a post (not seen before) in a Lemmy-like community elsewhere
    author = remote.person("lem")
    note = remote.note(author, "A post in a group")
    note["audience"] = f"{remote.base_url}/c/nursing"
    # When a coordinator reports it
    await copub.cli("report", SLUG, note["id"], "--reason", "off topic")
    [got] = await remote.wait_for(lambda received: [d for d in received if d.type == "Flag"])
    # Then it is addressed to that community alone, as Lemmy requires
    assert got.ok, got.error
    assert got.activity["to"] == [note["audience"]]
    assert got.activity["object"] == [author.id, note["id"]]


@sqlite_only
async def test_a_report_out_is_one_delivery_in_the_community_s_transaction(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given bob's account, which copub never saw
    bob = remote.person("bob", shared_inbox=False)
    # When a coordinator reports the account itself (no post) through the domain API:
    ruth = Moderator("ruth", "coordinator")
    async with copub.sessions.begin() as session:
        nightshift = await queries.get_community(session, SLUG)
        assert nightshift is not None
        with pytest.raises(reports.NoSuchReport):  # copub never saw bob
            await reports.send_report(session, copub.urls, nightshift, bob.id, "spam", ruth)
    target = await reports.fetch_target(copub.app[REMOTE], copub.urls, bob.id)
    assert (target.actor, target.post, target.inbox) == (bob.id, None, bob.inbox)
    async with copub.sessions.begin() as session:
        nightshift = await queries.get_community(session, SLUG)
        assert nightshift is not None
        known = await reports.known_target(session, copub.urls, bob.id)  # remembered now
        assert known == target
        sent = await reports.send_report(session, copub.urls, nightshift, bob.id, "spam", ruth)
    # Then one Flag is queued, for bob's own inbox, and reaches it
    [got] = await remote.wait_for(lambda received: [d for d in received if d.type == "Flag"])
    assert got.ok
    assert got.path == bob.inbox_path
    assert got.activity["object"] == [bob.id]
    assert "ruth" not in json.dumps(got.activity)
    async with copub.sessions() as session:
        rows = (await session.execute(
            select(ActivityRow.ap_id, DeliveryRow.inbox)
            .join(DeliveryRow, DeliveryRow.activity_id == ActivityRow.id)
            .where(ActivityRow.ap_type == "Flag")
        )).all()  # fmt: skip
        activity = await social.get_activity(session, sent.activity_id)
    assert rows == [(sent.activity_id, bob.inbox)]
    assert activity is not None
    assert activity.public is False


@pytest.mark.parametrize(
    ("url", "reason", "problem"),
    [
        ("javascript:alert(1)", "spam", "not an http(s) URL"),
        ("LOCAL", "spam", "on this server"),
        ("https://else.example/u/x", "   ", "say why"),
        ("https://else.example/u/x", "x" * 1001, "at most 1000"),
    ],
)
async def test_a_report_out_is_refused_with_a_reason(
    inbound: Inbound, nightshift: Community, url: str, reason: str, problem: str
) -> None:
    url = inbound.urls.community(SLUG) if url == "LOCAL" else url
    async with inbound.sessions.begin() as session:
        with pytest.raises(reports.InvalidReport, match=re.escape(problem)):
            await reports.send_report(
                session, inbound.urls, nightshift, url, reason, Moderator("", "operator")
            )


async def test_webfinger_finds_the_moderation_actor_unless_a_community_has_the_name(
    inbound: Inbound,
) -> None:
    # Mastodon takes an actor's activities (a report among them) only when WebFinger for
    # its preferredUsername@host leads back to it
    client = inbound.client
    resource = f"acct:moderation@{inbound.urls.domain}"
    for query in (resource, inbound.urls.moderation()):
        async with client.get("/.well-known/webfinger", params={"resource": query}) as answer:
            assert answer.status == 200
            body = await answer.json(content_type=None)
        assert body["subject"] == resource
        assert [link["href"] for link in body["links"]] == [inbound.urls.moderation()]
    # A community of that name keeps its handle
    await factories.create_community(inbound.sessions, slug="moderation")
    async with client.get("/.well-known/webfinger", params={"resource": resource}) as answer:
        body = await answer.json(content_type=None)
    assert body["links"][0]["href"] == inbound.urls.community("moderation")
