"""Email digests against a real SMTP server (aiosmtpd on loopback): double opt-in, one
digest per period in text and HTML, unsubscribe by the link and by RFC 8058's one-click
POST, refusals retried without a second copy, and the digest as an Atom feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
import pytest
from sqlalchemy import select

from actors.store import digests
from actors.store.models_digests import DigestSendRow, DigestSubscriptionRow
from actors.store.states import JobState
from actors.web.digest_pages import DigestPanel
from actors.web.keys import DASHBOARD_PANELS
from tests.digests.smtp import part
from tests.digests.world import ADDRESS, World, link_in, path_of
from tests.pages import builders

ONE_CLICK = {"data": "List-Unsubscribe=One-Click",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}  # fmt: skip


async def test_the_form_shows_only_when_email_is_configured(client: Any, world: World) -> None:
    with_email = await world.page("/c/nightshift")
    assert 'action="https://cop.test/c/nightshift/digest"' in with_email
    assert 'name="frequency"' in with_email
    without = await (await client.get("/c/nightshift", headers={"Accept": "text/html"})).text()
    assert '/digest"' not in without
    refused = await client.post("/c/nightshift/digest", data={"email": ADDRESS})
    assert refused.status == 404


async def test_nothing_is_sent_before_the_address_confirms(world: World) -> None:
    await world.story("The double check")
    assert "Check your inbox" in await world.subscribe()
    (confirmation,) = await world.mail.wait_for(1)
    assert confirmation["To"] == ADDRESS
    assert confirmation["Subject"] == "Confirm your weekly digest of Night Shift Nursing"
    assert "List-Unsubscribe" not in confirmation
    world.clock.next_week()
    assert (await world.service.run_pass()).queued == 0
    assert len(world.mail.messages) == 1  # the confirmation only
    # asking again within minutes sends nothing more, and says the same
    assert "Check your inbox" in await world.subscribe()
    assert len(world.mail.messages) == 1
    # the address is kept only while its link works
    world.clock.advance(days=8)
    await world.service.schedule()
    assert await world.count(DigestSubscriptionRow) == 0


async def test_a_digest_reaches_the_server_once_in_text_and_html(world: World) -> None:
    await world.subscribed()
    story = await world.story("Night of the missing key", "We found it.")
    practice = await builders.add_practice(
        world.sessions, world.community, "Double-check insulin",
        [builders.Version("Two nurses check.", status="established", at=builders.now())],
    )  # fmt: skip
    await world.thread("<p>Who else uses the checklist?</p>", replies=2)
    digest = await world.next_digest()
    assert digest["To"] == ADDRESS
    assert digest["Subject"].startswith("Night Shift Nursing: the week of ")
    assert digest.get_content_type() == "multipart/alternative"
    text, html = part(digest, "plain"), part(digest, "html")
    for body in (text, html):
        assert "Night of the missing key" in body
        assert "Double-check insulin" in body
        assert "Who else uses the checklist?" in body
    assert story.ap_id in text
    assert f'href="{practice.ap_id}"' in html
    assert "2 replies" in text
    unsubscribe = link_in(digest, "unsubscribe")
    assert digest["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = world.mail.raw[-1].decode()  # as it came: one URL, no RFC 2047 encoded-word
    assert f"List-Unsubscribe: <{unsubscribe}>\r\n" in sent
    assert unsubscribe in html
    # the next passes of the same week send nothing more
    assert (await world.service.run_pass()).sent == 0
    world.clock.advance(hours=1)
    assert (await world.service.run_pass()).sent == 0
    assert len(world.mail.messages) == 2
    assert await world.count(DigestSendRow, DigestSendRow.sent_at.is_not(None)) == 1


async def test_a_quiet_week_sends_nothing(world: World) -> None:
    await world.subscribed()
    world.clock.next_week()
    report = await world.service.run_pass()
    assert (report.queued, report.sent, report.empty) == (1, 0, 1)
    assert len(world.mail.messages) == 1


async def test_unsubscribe_from_the_link_deletes_the_address(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    link = path_of(link_in(await world.next_digest(), "unsubscribe"))
    page = await world.client.get(link)  # a mail scanner opening the link unsubscribes nobody
    assert page.status == 200
    assert "Unsubscribe" in await page.text()
    assert await world.count(DigestSubscriptionRow) == 1
    token = link.split("token=", 1)[1]
    done = await world.client.post("/c/nightshift/digest/unsubscribe", data={"token": token})
    assert done.status == 200
    assert "You are unsubscribed" in await done.text()
    assert await world.count(DigestSubscriptionRow) == 0
    assert await world.count(DigestSendRow) == 0
    await world.story("Another story", published=world.clock.now)
    world.clock.next_week()
    assert (await world.service.run_pass()).queued == 0
    assert len(world.mail.messages) == 2


async def test_one_click_unsubscribe_from_the_header(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    target = path_of((await world.next_digest())["List-Unsubscribe"].strip("<>"))
    # what a mail client does (RFC 8058 section 3.2): POST the one-click body to the URI
    response = await world.client.post(target, **ONE_CLICK)
    assert response.status == 200
    assert await world.count(DigestSubscriptionRow) == 0
    again = await world.client.post(target, **ONE_CLICK)
    assert again.status == 200  # already gone: still fine


async def test_a_forged_token_or_a_used_link_changes_nothing(world: World) -> None:
    await world.subscribed()
    async with world.sessions() as session:
        ident = await session.scalar(select(DigestSubscriptionRow.id))
    forged = await world.client.post(f"/c/nightshift/digest/unsubscribe?token={ident}.{'0' * 40}")
    assert forged.status == 400
    guessed = {"token": f"{ident}.{'x' * 43}"}
    assert (await world.client.post("/c/nightshift/digest/confirm", data=guessed)).status == 400
    used = path_of(link_in(world.mail.messages[0], "confirm")).split("token=")[1]
    again = await world.client.post("/c/nightshift/digest/confirm", data={"token": used})
    assert again.status == 400
    assert await world.count(DigestSubscriptionRow) == 1


async def test_a_refusing_server_is_retried_without_sending_twice(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    world.mail.refuse_data = ["451 4.3.0 mailbox busy, try later", "554 5.7.0 relay refused"]
    world.mail.refuse_rcpt = ["452 4.2.2 over quota, try later"]
    world.clock.next_week()
    first = await world.service.run_pass()
    assert (first.sent, first.retrying) == (0, 1)
    assert (await world.service.run_pass()).sent == 0  # not due yet: the backoff
    for _ in range(3):
        world.clock.advance(hours=1)
        await world.service.run_pass()
    assert world.mail.refused == 3
    assert len(await world.mail.wait_for(2)) == 2
    row = await world.send_row()
    assert (row.state, row.attempts, row.settled) == (JobState.DONE, 4, 4)
    world.clock.advance(hours=1)
    await world.service.run_pass()
    assert len(world.mail.messages) == 2


async def test_refusals_are_bounded(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    world.mail.refuse_data = ["451 4.3.0 try later"] * 100
    world.clock.next_week()
    for _ in range(30):
        await world.service.run_pass()
        world.clock.advance(hours=2)
    row = await world.send_row()
    assert row.state is JobState.FAILED
    assert row.attempts == world.service.settings.max_attempts
    assert len(world.mail.messages) == 1


async def test_a_recipient_refused_for_good_is_not_retried(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    world.mail.refuse_rcpt = ["550 5.1.1 no such mailbox"]
    world.clock.next_week()
    assert (await world.service.run_pass()).failed == 1
    world.clock.advance(hours=3)
    await world.service.run_pass()
    assert world.mail.refused == 1


class Crash(Exception):
    pass


async def test_a_crash_after_the_server_took_it_resends_the_same_message_id(world: World) -> None:
    """The one window of the guarantee: accepted, then the process died before writing so.
    The retry knows it is in doubt and sends the same Message-ID (the idempotency key)."""
    await world.subscribed()
    await world.story("A story")
    world.clock.next_week()
    service = world.service
    real_finish = service._finish

    async def crash(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("sent"):
            raise Crash
        await real_finish(*args, **kwargs)

    service._finish = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await service.run_pass()
    service._finish = real_finish  # type: ignore[method-assign]
    assert len(await world.mail.wait_for(2)) == 2
    assert (await service.run_pass()).sent == 0  # leased still: nothing before it expires
    async with world.sessions() as session:
        assert await digests.next_due(session) == (await world.send_row()).locked_until
    world.clock.advance(seconds=service.lease_seconds + 1)
    assert (await service.run_pass()).sent == 1
    first, second = world.mail.messages[1:]
    assert first["Message-ID"] == second["Message-ID"]
    world.clock.advance(hours=1)
    await service.run_pass()
    assert len(world.mail.messages) == 3


async def test_the_digest_as_a_feed(world: World) -> None:
    await world.story("Last week's story", published=builders.now() - timedelta(days=7))
    response = await world.client.get("/c/nightshift/digest.atom")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(await response.read())
    assert parsed.feed.title == "Night Shift Nursing: weekly digest"
    (entry,) = parsed.entries
    assert entry.title.startswith("Night Shift Nursing: the week of ")
    assert "Last week" in entry.content[0].value
    etag = {"If-None-Match": response.headers["ETag"]}
    assert (await world.client.get("/c/nightshift/digest.atom", headers=etag)).status == 304
    monthly = await world.client.get("/c/nightshift/digest.atom?frequency=monthly")
    assert monthly.status == 200
    # a story added to last week shows at once (the cached feed goes with the change)
    await world.story("A late story", published=builders.now() - timedelta(days=7))
    again = await world.client.get("/c/nightshift/digest.atom", headers=etag)
    assert again.status == 200
    assert "A late story" in await again.text()


async def test_a_bad_address_is_refused_on_the_page(world: World) -> None:
    for bad in ("not an address", "a@b", "x@example.org\r\nBcc: y@example.org", ""):
        response = await world.client.post("/c/nightshift/digest", data={"email": bad})
        assert response.status == 400
        assert "Enter an email address" in await response.text()
    assert world.mail.messages == []


async def test_not_you_deletes_an_address_someone_else_typed(world: World) -> None:
    await world.subscribe()
    (confirmation,) = await world.mail.wait_for(1)
    forget = path_of(link_in(confirmation, "unsubscribe"))
    response = await world.client.post(forget)
    assert response.status == 200
    assert await world.count(DigestSubscriptionRow) == 0
    confirm = path_of(link_in(confirmation, "confirm")).split("token=")[1]
    late = await world.client.post("/c/nightshift/digest/confirm", data={"token": confirm})
    assert late.status == 400


async def test_a_digest_that_cannot_be_made_waits_for_a_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.subscribed()
    await world.story("A story")
    real = world.service.renderer.digest

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a template bug")

    monkeypatch.setattr(world.service.renderer, "digest", broken)
    world.clock.next_week()
    assert (await world.service.run_pass()).retrying == 1
    monkeypatch.setattr(world.service.renderer, "digest", real)
    world.clock.advance(hours=1)
    assert (await world.service.run_pass()).sent == 1
    assert len(world.mail.messages) == 2


async def test_the_next_pass_waits_for_a_retry_or_a_lease(world: World) -> None:
    await world.subscribed()
    await world.story("A story")
    world.mail.refuse_data = ["451 4.3.0 try later"]
    world.clock.next_week()
    await world.service.run_pass()
    async with world.sessions() as session:
        due = await digests.next_due(session)
    row = await world.send_row()
    assert due == row.next_try_at
    assert due is not None
    assert due.tzinfo is not None
    assert due > world.clock.now


async def test_the_coordinators_dashboard_counts_subscribers_and_failures(world: World) -> None:
    await world.subscribed()
    await world.subscribe("second@clinic.example", "monthly")
    await world.story("A story")
    world.mail.refuse_rcpt = ["550 5.1.1 no such mailbox"]
    world.clock.next_week()
    await world.service.run_pass()
    (source,) = [s for s in world.client.app[DASHBOARD_PANELS] if isinstance(s, DigestPanel)]
    async with world.sessions() as session:
        panel = await source.dashboard_panel(session, world.community)
    assert panel.title == "Email digest"
    assert dict(panel.facts) == {
        "Subscribers": "1 weekly, 0 monthly",
        "Waiting to confirm": "1",
        "Digests waiting to go": "0",
    }
    (problem,) = panel.problems
    assert problem.startswith("1 digest could not be sent")
    assert "nurse@hospital.example" not in str(panel)


async def test_one_requester_cannot_mail_a_list_of_strangers(world: World) -> None:
    for n in range(5):
        await world.subscribe(f"stranger{n}@example.org")
    too_many = await world.client.post(
        "/c/nightshift/digest", data={"email": "stranger5@example.org"}
    )
    assert too_many.status == 429
    assert len(world.mail.messages) == 5
