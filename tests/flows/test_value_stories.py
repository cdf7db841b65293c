"""A value-creation story travels between two copub servers.

The clinic (one copub) publishes a practice, records an indicator and tells a story of
applied value about the practice; the hospital (another copub) links the clinic. The
story reaches the hospital with its claim, and the hospital's network page shows the
clinic's story and indicator in the value-creation matrix, beside its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors.store.models_values import ValueStoryRow
from actors.web.network import NETWORK_REFRESHER
from tests.flows.copub import Copub, follow, sqlite_only, start_copub, wait_until
from tests.flows.remote import RemoteServer
from tests.flows.test_practice_filing import stored
from tests.links.network import Org

HTML = "text/html"


@pytest.fixture
async def two(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[tuple[Org, Org]]:
    servers: list[Copub] = []
    try:
        for name in ("hospital", "clinic"):
            path = tmp_path / f"{name}.sqlite3"
            path.write_bytes(sqlite_template.read_bytes())
            server = await start_copub(f"sqlite+aiosqlite:///{path}", tmp_path)
            await server.create_community(name)
            servers.append(server)
        yield Org(servers[0], "hospital"), Org(servers[1], "clinic")
    finally:
        for server in servers:
            await server.server.close()
    assert not [e for s in servers for e in s.errors]


def _row(html: str, cycle: str) -> str:
    """The matrix row of a cycle, in the section after ``value-h``."""
    matrix = html.split('id="value-h"', 1)[1] if 'id="value-h"' in html else html
    return matrix.split(f'id="value-{cycle}"', 1)[1].split("</tr>", 1)[0]


async def test_a_value_story_from_one_copub_appears_in_the_others_matrix(
    two: tuple[Org, Org],
) -> None:
    hospital, clinic = two
    # Given the clinic has a practice, and the hospital links the clinic
    out = await clinic.copub.cli(
        "publish", "clinic", "practice", "--title", "Double check", "--summary", "Two nurses.",
        "--content", "Read the dose aloud.",
    )  # fmt: skip
    practice = out.strip().removeprefix("published ")
    await hospital.link(clinic, policy="none")
    # And the hospital tells a story of its own
    await hospital.copub.cli(
        "publish", "hospital", "story", "--title", "Night rota", "--content", "Three a night.",
        "--cycle", "immediate", "--changed", "Newcomers met the core", "--for", "new nurses",
    )  # fmt: skip
    # When the clinic's coordinator records an indicator and tells a value-creation story
    await clinic.copub.cli(
        "value", "add", "clinic", "--cycle", "applied", "--text", "wards adopted the double check",
        "--number", "12", "--date", "2026-11-30",
    )  # fmt: skip
    out = await clinic.copub.cli(
        "publish", "clinic", "story", "--title", "Ward 3 reads the dose aloud",
        "--content", "A month of double checks.", "--cycle", "applied",
        "--changed", "Every insulin dose is read aloud", "--for", "night nurses",
        "--about", practice,
    )  # fmt: skip
    story = out.strip().removeprefix("published ")
    # Then its Note carries the claim in copub's terms, and says it in its text
    status, note = await clinic.copub.get(story)
    assert status == 200
    assert (note["valueCycle"], note["valueFor"], note["valueAbout"]) == (
        "applied", "night nurses", [practice]
    )  # fmt: skip
    assert "Applied value" in note["content"]
    assert "What changed: Every insulin dose is read aloud" in note["content"]
    # And it reaches the hospital over the link, with its claim
    await wait_until(lambda: hospital.link_items(story), 20, "the story reached the hospital")
    # And the hospital's network matrix shows it at once (the clinic's indicator comes
    # with the network's refresh, which the page asks for)
    network = hospital.copub.urls.community_network("hospital")
    status, html = await hospital.copub.get(network, accept=HTML)
    assert status == 200
    applied = _row(html, "applied")
    assert "Ward 3 reads the dose aloud" in applied
    assert "Every insulin dose is read aloud" in applied
    assert "Night rota" in _row(html, "immediate")
    await hospital.copub.app[NETWORK_REFRESHER].idle()
    status, html = await hospital.copub.get(network, accept=HTML)
    applied = _row(html, "applied")
    assert "wards adopted the double check" in applied
    assert "<strong>12</strong>" in applied
    assert applied.count("Ward 3 reads the dose aloud") == 1  # come over the link and fetched
    assert "Clinic" in applied  # named by its community
    # And the clinic's own page shows its matrix; the hospital's own, only its story
    status, page = await clinic.copub.get(clinic.actor, accept=HTML)
    assert "Ward 3 reads the dose aloud" in _row(page, "applied")
    assert "wards adopted the double check" in _row(page, "applied")
    status, page = await hospital.copub.get(hospital.actor, accept=HTML)
    assert (
        "Ward 3 reads the dose aloud" not in page.split('id="value-h"', 1)[1].split("</section>")[0]
    )


@sqlite_only
async def test_a_members_post_tagged_valuestory_and_a_cycle_is_filed_as_one(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    slug = "nightshift"  # the community fixture's
    # Given ana follows the community
    ana = remote.person("ana")
    await follow(remote, ana, copub, slug)
    # When she posts "#valuestory #applied" (Mastodon's hashtags), then edits the post
    note = remote.note(ana, "Ward 3 now reads every dose aloud", mention=copub.mention(slug))
    for tag in ("ValueStory", "applied"):
        href = f"{remote.base_url}/tags/{tag.lower()}"
        note["tag"].append({"type": "Hashtag", "name": f"#{tag}", "href": href})
    await remote.send_create(ana, copub.inbox(slug), note)
    row = await stored(copub, note["id"])
    # Then it is filed as a value-creation story of applied value, shown in the matrix
    assert row.kind == "story"
    async with copub.sessions() as session:
        claim = await session.get(ValueStoryRow, row.id)
    assert claim is not None
    assert claim.cycle == "applied"
    _status, html = await copub.get(copub.urls.community_value(slug), accept=HTML)
    assert "Ward 3 now reads every dose aloud" in _row(html, "applied")
    # And an edit keeps it so
    activity = await remote.send_update(ana, copub.inbox(slug), note, "Wards 3 and 4 now")
    await copub.processed(activity["id"])
    _status, html = await copub.get(copub.urls.community_value(slug), accept=HTML)
    assert "Wards 3 and 4 now" in _row(html, "applied")
