"""Email digests are not offered for a members-only community: an address
subscribed while it was public gets nothing once it is members-only, and its digest pages
and feed answer 404 (tests/members/test_surfaces.py walks them for every viewer)."""

from __future__ import annotations

from actors import founding
from actors.members import Visibility
from actors.urls import Urls
from federation.clock import utcnow
from tests import factories
from tests.digests.world import World


async def test_a_members_only_community_emails_no_digest(world: World) -> None:
    await world.subscribed()
    await world.story("What we learned from the incident")
    async with world.sessions.begin() as session:
        c = world.community
        await founding.update_community(
            session, Urls(factories.BASE_URL), c, name=c.name, summary=c.summary,
            closed=c.closed, profile_fields=c.profile_fields, now=utcnow(),
            visibility=Visibility.MEMBERS,
        )  # fmt: skip
    sent_before = len(world.mail.messages)
    world.clock.next_week()
    report = await world.service.run_pass()
    assert report.sent == 0
    assert len(world.mail.messages) == sent_before
    for path in ("/c/nightshift/digest.atom", "/c/nightshift/digest/confirm?token=x"):
        async with world.client.get(path) as response:
            assert response.status == 404, path
