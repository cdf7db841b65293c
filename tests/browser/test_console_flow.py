"""The console from first start to a coordinator's day, in a real browser, under the page
policy, against real peers over https (the throwaway CA of tests/interop):

the admin's setup link -> a password -> a community (open; a Fedify peer follows it) ->
closed, with a profile field (the peer gets the Update of the Group) -> an invitation ->
the coordinator joins, signs out and signs in -> a story and an event, which the Fedify
peer receives -> a second Fedify peer's follow request, approved -> a link to a community
on a second copub, accepted -> a token made and revoked -> signed out.

Every console page on the way is photographed at desktop width and at 360 px; with
``COPUB_SCREENSHOTS=1`` the pictures go to docs/console/ (the README shows them), else to
the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BROWSER_LOOP, OpenPage, fixture, page_opener
from tests.interop.checks import find
from tests.interop.conftest import HttpsCopub, start_copub_https
from tests.interop.fedify import Activity, FedifyPeer, PeerUnavailable, make_tls

pytestmark = BROWSER_LOOP

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "three words remembered"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
SLUG, NAME = "nightshift", "Night Shift Nursing"
SETUP_RE = re.compile(r"(https://\S+/console/setup/\S+)")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the console flow needs the Fedify peer in CI: {reason}")
    pytest.skip(reason)


@dataclass
class Network:
    """copub (the console's), a second copub, and two Fedify peers, all over https."""

    copub: HttpsCopub
    sister: HttpsCopub
    peer: FedifyPeer
    newcomer: FedifyPeer
    shots: Path


@fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    try:
        tls = make_tls(tmp_path)
    except PeerUnavailable as exc:
        _unavailable(str(exc))
        raise
    copub = await start_copub_https(f"sqlite+aiosqlite:///{tmp_path}/a.sqlite3", tmp_path, tls)
    sister = await start_copub_https(f"sqlite+aiosqlite:///{tmp_path}/b.sqlite3", tmp_path, tls)
    peers: list[FedifyPeer] = []
    try:
        for name in ("peer", "newcomer"):
            try:
                peers.append(await FedifyPeer.start(tls, tmp_path / f"{name}.log"))
            except PeerUnavailable as exc:
                _unavailable(str(exc))
        shots = ROOT / "docs" / "console" if os.environ.get("COPUB_SCREENSHOTS") else tmp_path
        shots.mkdir(parents=True, exist_ok=True)
        yield Network(copub, sister, peers[0], peers[1], shots)
    finally:
        for peer in peers:
            await peer.stop()
        await sister.server.close()
        await copub.server.close()
    assert not copub.errors, copub.errors
    assert not sister.errors, sister.errors


@fixture
async def open_page(
    browser: Any, network: Network
) -> AsyncIterator[Callable[..., Awaitable[OpenPage]]]:
    async with page_opener(browser, network.copub.base_url) as open_:
        yield open_


async def shoot(opened: OpenPage, shots: Path, name: str) -> None:
    """The page as it is now, at desktop width and at 360 px (the top of it)."""
    page = opened.page
    await page.screenshot(path=str(shots / f"{name}.png"))
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(shots / f"{name}-360.png"))
    await page.set_viewport_size(DESKTOP)


async def until_shown(page: Any, locator: Any, what: str, tries: int = 100) -> None:
    """Reload until ``locator`` is on the page (the servers work in the background)."""
    for _ in range(tries):
        if await locator.count():
            return
        await page.wait_for_timeout(100)
        await page.reload()
    raise AssertionError(f"{what} never showed on {page.url}")


def with_text(text: str) -> Callable[[list[Activity]], list[Activity]]:
    """Verified Creates whose object mentions ``text``."""

    def check(got: list[Activity]) -> list[Activity]:
        return [a for a in find("Create")(got) if text in str(a["document"].get("object"))]

    return check


def in_nav(page: Any, name: str) -> Any:
    """A link of the console's navigation."""
    nav = page.get_by_role("navigation", name="Console")
    return nav.get_by_role("link", name=name, exact=True)


async def sign_out(page: Any) -> None:
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_role("status").filter(has_text="You are signed out.").wait_for()


async def test_from_the_setup_link_to_a_coordinators_day(
    network: Network, open_page: Callable[..., Awaitable[OpenPage]]
) -> None:
    copub, sister, peer, newcomer, shots = (
        network.copub, network.sister, network.peer, network.newcomer, network.shots,
    )  # fmt: skip
    base = copub.base_url
    await sister.create_community("pharmacy")
    opened = await open_page(viewport=DESKTOP, ignore_https_errors=True)
    page = opened.page

    # The admin's setup link (what `copub serve` prints on first start), then a password
    found = SETUP_RE.search(await copub.cli("admin", "create", "ada"))
    assert found
    await page.goto(found.group(1))
    await shoot(opened, shots, "setup")
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{base}/console")

    # A community, open at first; a Fedify peer follows it
    await in_nav(page, "Manage communities").click()
    await page.get_by_label("Short name").fill(SLUG)
    await page.get_by_label("Name", exact=True).fill(NAME)
    await page.get_by_label("What the community is about").fill(
        "Safe medication at night shifts: nurses sharing what works."
    )
    await shoot(opened, shots, "server-communities")
    await page.get_by_role("button", name="Create the community").click()
    await page.get_by_role("status").filter(has_text="Community created.").wait_for()
    follow = await peer.follow(copub.urls.handle(SLUG))
    await peer.wait_for(find("Accept", object_id_=follow["id"]), what="the Accept")

    # Closed from now on, with a profile field: the follower gets the new profile
    await page.get_by_label("Closed community").check()
    await page.get_by_label("Field 1 name").fill("Meets")
    await page.get_by_label("Field 1 value").fill("Third Tuesday of the month")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("status").filter(has_text="Saved").wait_for()
    await shoot(opened, shots, "server-community")
    [update] = await peer.wait_for(
        find("Update", object_id_=copub.actor(SLUG)), what="the Update of the Group"
    )
    assert update["document"]["object"]["manuallyApprovesFollowers"] is True

    # An invitation for the coordinator
    await in_nav(page, "Coordinators").click()
    await page.get_by_label("Community").select_option(SLUG)
    await page.get_by_role("button", name="Make an invitation link").click()
    invite = (await page.locator("#invite-link").inner_text()).strip()
    assert invite.startswith(f"{base}/console/invite/")
    await shoot(opened, shots, "server-coordinators")
    await sign_out(page)

    # The coordinator joins, signs out, and signs in with the password
    await page.goto(invite)
    await page.get_by_label("Name", exact=True).fill("alice")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create my account").click()
    await page.wait_for_url(re.compile(re.escape(base) + r"/console.*"))
    await sign_out(page)
    await page.goto(f"{base}/console/c/{SLUG}")  # asks to sign in first, then comes back
    await shoot(opened, shots, "signin")
    await page.get_by_label("Name").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{base}/console/c/{SLUG}")

    # A story, which the Fedify peer receives
    await in_nav(page, "Write").click()
    await page.get_by_role("link", name="New story").click()
    await page.get_by_label("Title").fill("Double-checking at 3 a.m.")
    await page.get_by_label("Text (Markdown)").fill(
        "We read the dose **aloud** to each other: no more slips since May."
    )
    await page.get_by_role("button", name="Preview").click()
    await page.locator("#f-preview strong").filter(has_text="aloud").wait_for()
    await shoot(opened, shots, "write-story")
    await page.get_by_role("button", name="Publish").click()
    await page.get_by_role("status").filter(has_text="Published").wait_for()
    await peer.wait_for(with_text("no more slips since May"), what="the story")

    # An event, which the Fedify peer receives too
    await page.get_by_role("link", name="New event").click()
    await page.get_by_label("Title").fill("Monthly case review")
    await page.get_by_label("Description (Markdown)").fill("Bring one case from last month.")
    await page.get_by_label("Starts", exact=True).fill("2030-01-15T18:00")
    await page.get_by_label("Ends", exact=True).fill("2030-01-15T19:00")
    await page.get_by_label("Time zone").select_option("Europe/Berlin")
    await page.get_by_label("Repeats").select_option("monthly_weekday")
    await page.get_by_label("Place", exact=True).fill("Ward B, St Mary's")
    await shoot(opened, shots, "write-event")
    await page.get_by_role("button", name="Publish").click()
    await page.get_by_role("status").filter(has_text="Published").wait_for()
    await shoot(opened, shots, "write")
    await peer.wait_for(with_text("Bring one case from last month."), what="the event")

    # A newcomer asks to follow the closed community: approved
    asked = await newcomer.follow(copub.urls.handle(SLUG))
    await in_nav(page, "People").click()
    approve = page.get_by_role("button", name=re.compile(r"^Approve "))
    await until_shown(page, approve, "the follow request")
    await shoot(opened, shots, "people")
    await approve.click()
    await page.get_by_role("status").wait_for()
    await newcomer.wait_for(find("Accept", object_id_=asked["id"]), what="the Accept")
    assert await copub.follower_state(SLUG, newcomer.actor) == "accepted"

    # A link to a community on another copub: the console shows it before linking
    await in_nav(page, "Network").click()
    await page.get_by_label("The community's handle or URL").fill(sister.urls.handle("pharmacy"))
    await page.get_by_role("button", name="Find the community").click()
    await page.get_by_role("heading", level=1).filter(has_text="Pharmacy").wait_for()
    await shoot(opened, shots, "network-confirm")
    await page.get_by_role("button", name=re.compile(r"^Link with ")).click()
    await until_shown(page, page.get_by_text("linked", exact=True), "the accepted link")
    await shoot(opened, shots, "network")
    assert await sister.follower_state("pharmacy", copub.actor(SLUG)) == "accepted"

    # A token made (shown once), then revoked
    await in_nav(page, "Tokens").click()
    await page.get_by_label("Who or what uses it").fill("the newsletter script")
    await page.get_by_role("button", name="Make a token").click()
    assert len((await page.locator("#new-token").inner_text()).strip()) >= 32
    await shoot(opened, shots, "tokens")
    await page.get_by_role("button", name=re.compile(r"^Revoke token ")).click()
    await page.get_by_role("status").filter(has_text="Token revoked").wait_for()
    assert await page.get_by_role("button", name=re.compile(r"^Revoke token ")).count() == 0

    # The dashboard sums the day up; and the coordinator signs out
    await in_nav(page, NAME).click()
    await page.get_by_role("heading", level=1, name=NAME).wait_for()
    await shoot(opened, shots, "dashboard")
    await sign_out(page)
    assert page.url.startswith(f"{base}/console/signin")
    opened.assert_no_errors()


async def test_the_admins_server_pages(
    network: Network, open_page: Callable[..., Awaitable[OpenPage]]
) -> None:
    """The delivery queue (a peer that stopped answering, retried now) and the audit log
    of what the admin did, photographed."""
    copub, peer, shots = network.copub, network.peer, network.shots
    await copub.create_community(SLUG)
    follow = await peer.follow(copub.urls.handle(SLUG))
    await peer.wait_for(find("Accept", object_id_=follow["id"]), what="the Accept")
    await peer.stop()  # the peer's server is gone: its deliveries wait
    await copub.publish(SLUG, "A story nobody receives yet", "The peer is down.")
    opened = await open_page(viewport=DESKTOP, ignore_https_errors=True)
    page = opened.page
    found = SETUP_RE.search(await copub.cli("admin", "create", "ada"))
    assert found
    await page.goto(found.group(1))
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{copub.base_url}/console")

    await in_nav(page, "Deliveries").click()
    host = peer.origin.split("://", 1)[1]
    retry = page.get_by_role("button", name=f"Retry {host} now")
    await until_shown(page, retry, "the failing peer")
    await shoot(opened, shots, "server-deliveries")
    await retry.click()
    await page.get_by_role("status").filter(has_text=f"to {host} are due now").wait_for()

    await in_nav(page, "Audit log").click()
    main = page.locator("main")
    assert "deliveries.retry" in await main.inner_text()
    await shoot(opened, shots, "server-audit")
    opened.assert_no_errors()
