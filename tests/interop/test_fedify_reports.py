"""Reports between copub and Fedify: a Flag from the peer lands in the
community's queue; a Flag copub sends (by its moderation actor) is verified by the peer,
with the account and the post it reports and the reason."""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models_moderation import ReportDirection, ReportRow
from tests.flows.copub import Copub, sqlite_only
from tests.interop.checks import verified_everything
from tests.interop.fedify import Activity, FedifyPeer

pytestmark = sqlite_only


async def _reports(copub: Copub) -> list[ReportRow]:
    async with copub.sessions() as session:
        return list(await session.scalars(select(ReportRow).order_by(ReportRow.id)))


def _flags(got: list[Activity]) -> list[Activity]:
    return [entry for entry in got if entry["type"] == "Flag"]


async def test_a_flag_from_the_peer_is_in_the_community_s_queue(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given a story of the community
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    # When the peer reports the community and the story, as Mastodon does
    sent = await peer.flag(copub.urls.handle("nightshift"), [community, story], "Off topic")
    # Then copub keeps one open report in the community's queue, with both URLs
    await copub.processed(sent["id"])
    [row] = await _reports(copub)
    assert (row.direction, row.activity_id, row.reporter) == (
        ReportDirection.IN, sent["id"], peer.actor
    )  # fmt: skip
    assert row.objects == [community, story]
    assert row.content == "Off topic"
    assert row.community_id is not None
    await verified_everything(copub, peer)


async def test_a_flag_from_copub_is_verified_by_the_peer(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given the peer's post, which the community relayed
    await peer.follow(copub.urls.handle("nightshift"))
    create = await peer.post(copub.urls.handle("nightshift"), "Cheap pills, DM me")
    note = create["object"]["id"]
    await copub.processed(create["id"])
    # When a coordinator reports it
    await copub.cli("report", "nightshift", note, "--reason", "Selling pills")
    # Then the peer verifies a Flag from copub's moderation actor (its signature, the key's
    # owner), naming the account then the post, with the reason
    [flag] = await peer.wait_for(_flags, what="the Flag")
    assert flag["actor"] == copub.urls.moderation()
    assert flag["objects"] == [peer.actor, note]
    assert flag["content"] == "Selling pills"
    await verified_everything(copub, peer)
