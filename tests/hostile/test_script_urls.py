"""Attack class: script URLs from another server.

A Group whose actor document says ``"url": "javascript:…"`` followed a community (or was
linked by it) and put a clickable script link on the network page and the community page;
it fired in Chromium. An event's ``javascript:`` online URL reached the calendar. Every URL
taken from a remote document passes one http(s)-only check (federation/intake.py) when it
is stored, and pages, feeds and calendars refuse any other URL when they write one (a row
stored before the check cannot fire either).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from sqlalchemy import select, update

from actors.store.models import ObjectRow, RemoteActorRow
from actors.store.models_practice import EventDetailRow
from federation.vocab import JSON
from tests.flows import mobilizon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.links.network import Org, settled
from tests.links.origin import ACTIVITIES, start_origins

SCRIPT = "javascript:alert(document.domain)"
SCRIPTS = (SCRIPT, "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction") and value is not None:
                self.urls.append(value)


def unsafe_links(page: str) -> list[str]:
    """Every link of a page that is neither http(s) nor a path or fragment of this site."""
    parser = _Links()
    parser.feed(page)
    safe = ("http://", "https://", "webcal://", "/", "#", "?")  # webcal: our own calendar
    return [u for u in parser.urls if not u.strip().lower().startswith(safe) or u != u.strip()]


@dataclass
class HostileGroup(Person):
    """A Group on the remote server whose profile URL is a script."""

    profile: str = SCRIPT

    def document(self) -> JSON:
        doc = super().document()
        doc.update(type="Group", url=self.profile)
        return doc


async def _page(copub: Copub, url: str) -> str:
    status, page = await copub.get(url, accept="text/html")
    assert status == 200, page
    assert isinstance(page, str)
    return page


@sqlite_only
async def test_group_with_a_script_url_following_the_community(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a Group whose profile URL is a script follows the community
    group = HostileGroup("evil", remote.base_url)
    remote.people["evil"] = group
    await follow(remote, group, copub, "nightshift")
    # Then what is kept of it has no URL but its id
    async with copub.sessions() as session:
        actor = await session.get(RemoteActorRow, group.id)
    assert actor is not None
    assert actor.actor_type == "Group"
    assert actor.url is None
    # And the network page lists it, linking its id, with no script link
    page = await _page(copub, copub.urls.community_network("nightshift"))
    assert f'href="{group.id}"' in page
    assert unsafe_links(page) == []


@sqlite_only
async def test_script_urls_stored_before_the_check_are_not_links(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given remote actors (a following Group, a member) whose stored URLs are scripts
    group = HostileGroup("evil", remote.base_url, profile="https://remote.example/@evil")
    remote.people["evil"] = group
    await follow(remote, group, copub, "nightshift")
    alice = remote.person("alice")
    await follow(remote, alice, copub, "nightshift")
    note = remote.note(alice, "Hello", mention=copub.mention("nightshift"))
    await remote.send_create(alice, copub.shared_inbox, note)
    await copub.processed(note["id"] + "/activity")
    for index, actor_id in enumerate((group.id, alice.id)):
        async with copub.sessions.begin() as session:
            await session.execute(
                update(RemoteActorRow)
                .where(RemoteActorRow.ap_id == actor_id)
                .values(url=SCRIPTS[index])
            )
    # Then neither the network page nor the community page links a script
    for url in (copub.urls.community_network("nightshift"), copub.actor("nightshift")):
        page = await _page(copub, url)
        assert "Hello" in page or "network" in url.lower()
        assert unsafe_links(page) == []


async def test_linked_group_with_script_urls(home: Copub, fa: tuple[RemoteServer, Person]) -> None:
    lemmy, other = await start_origins(
        "lemmy.example", "other.example", extra={"https://copub.example": home.base_url}
    )
    try:
        # Given a Lemmy community (and its member) whose profile URLs are scripts
        lemmy.documents["/c/nursing"]["url"] = SCRIPT
        lemmy.documents["/u/ana"]["url"] = [{"type": "Link", "href": SCRIPT}]
        lemmy.accepting = True
        lemmy.accept_with = ACTIVITIES / "lemmy" / "accept" / "accept-follow.json"
        group = lemmy.url("/c/nursing")
        handle = f"@nursing@{lemmy.base_url.split('://', 1)[1]}"
        out = await home.cli("link", "hospital", handle, "--policy", "announce")
        assert "pending until it accepts" in out, out
        await Org(home, "hospital").wait_link(group, "accepted")
        # When it announces a post, whose audience is a script too
        activity = lemmy.hosts.load(ACTIVITIES / "lemmy" / "announce" / "announce-create-page.json")
        activity["object"]["object"]["audience"] = SCRIPT
        assert await lemmy.send(group, home.shared_inbox, activity) == 202
        await home.processed(activity["id"])
        await settled(Org(home, "hospital"))
        async with home.sessions() as session:
            stored = await session.scalar(
                select(ObjectRow).where(ObjectRow.ap_id == lemmy.url("/post/42"))
            )
        assert stored is not None
        # Then the community page shows the linked post, and no script link
        page = await _page(home, home.actor("hospital"))
        assert "Night shift handover" in page
        assert unsafe_links(page) == []
        page = await _page(home, home.urls.community_network("hospital"))
        assert unsafe_links(page) == []
    finally:
        for origin in (lemmy, other):
            await origin.close()


async def _event(copub: Copub, remote: RemoteServer, online: str) -> str:
    mona = remote.person("mona")
    await follow(remote, mona, copub, "nightshift")
    event = mobilizon.event(mona, online=online)
    create = mobilizon.create(mona, event)
    status, answer = await remote.post(mona, copub.inbox("nightshift"), create)
    assert status == 202, answer
    await copub.processed(create["id"])
    return str(event["id"])


@sqlite_only
async def test_event_with_a_script_online_url(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # When a follower's event gives a script as its online address
    await _event(copub, remote, SCRIPT)
    # Then the event is stored without it, and the calendar does not carry it
    async with copub.sessions() as session:
        assert list(await session.scalars(select(EventDetailRow.online_url))) == [None]
    status, calendar = await copub.get(copub.urls.community_calendar("nightshift"), "text/calendar")
    assert status == 200
    assert "Night shift meetup" in calendar
    assert "javascript" not in calendar.lower()


@sqlite_only
async def test_script_online_url_stored_before_the_check(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given the community's own event, stored with a script as its online address
    out = await copub.cli(
        "publish", "nightshift", "event", "--title", "Review", "--content", "Cases.",
        "--start", "2031-03-04T18:00", "--online-url", "https://visio.example/review",
    )  # fmt: skip
    event_id = out.strip().removeprefix("published ")
    async with copub.sessions.begin() as session:
        await session.execute(update(EventDetailRow).values(online_url=SCRIPT))
    # Then neither the calendars nor the event's page carry it as a link
    oid = event_id.rsplit("/", 1)[-1]
    for url in (
        copub.urls.community_calendar("nightshift"),
        copub.urls.event_calendar("nightshift", oid),
    ):
        status, calendar = await copub.get(url, "text/calendar")
        assert status == 200
        assert "Review" in calendar
        assert "javascript" not in calendar.lower()
    page = await _page(copub, event_id)
    assert unsafe_links(page) == []
