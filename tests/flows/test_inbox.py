"""What copub's inbox answers to good, repeated, forged and broken requests."""

from __future__ import annotations

import asyncio
import json

from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import RemoteServer
from tests.flows.test_follow import accepted_follow

pytestmark = sqlite_only


async def test_duplicate_post_is_processed_once(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a Follow from alice
    alice = remote.person("alice")
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base_url}/follows/1",
        "type": "Follow",
        "actor": alice.id,
        "object": community,
    }
    # When it is POSTed twice at once, then again (Mastodon retries when it saw no answer)
    inbox = copub.inbox("nightshift")
    answers = await asyncio.gather(*(remote.post(alice, inbox, activity) for _ in range(2)))
    answers.append(await remote.post(alice, copub.shared_inbox, activity))
    # Then each POST gets 202, and it is stored and applied once: one Accept
    assert [status for status, _ in answers] == [202, 202, 202]
    await remote.wait_for(accepted_follow("Accept", activity))
    await copub.processed(activity["id"])
    assert await copub.inbox_items(activity["id"]) == ["done"]
    accepts = await copub.sent("Accept")
    assert [a["object"]["id"] for a in accepts] == [activity["id"]]
    assert await copub.followers("nightshift") == (1, [alice.id])


async def test_bad_signature_is_401_json(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a Follow whose body was changed after signing
    alice = remote.person("alice")
    body = json.dumps(
        {"id": f"{remote.base_url}/f/2", "type": "Follow", "actor": alice.id, "object": community}
    ).encode()
    # When it is POSTed
    status, answer = await remote.post_raw(alice, copub.inbox("nightshift"), body, tamper=True)
    # Then copub answers 401 with a JSON reason, and stores nothing
    assert status == 401
    assert isinstance(answer, dict)
    assert "Digest" in answer["error"]
    assert await copub.inbox_items(f"{remote.base_url}/f/2") == []


async def test_activity_signed_on_another_server_is_401(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, community: str
) -> None:
    # Given mallory, on another server, signs a Follow that claims to be alice's
    alice, mallory = remote.person("alice"), remote2.person("mallory")
    forged = {"id": f"{remote.base_url}/f/4", "type": "Follow", "actor": alice.id,
              "object": community}  # fmt: skip
    # When mallory POSTs it
    status, answer = await remote2.post(mallory, copub.inbox("nightshift"), forged)
    # Then it is refused and alice follows nothing
    assert status == 401
    assert alice.id in answer["error"]
    assert await copub.inbox_items(forged["id"]) == []


async def test_activity_signed_by_another_actor_of_the_same_server_is_401(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given mallory signs a Follow that claims to be alice's, on their own server (FEP-fe34
    # would let a server's keys act for all its actors; no server we know of needs that)
    alice, mallory = remote.person("alice"), remote.person("mallory")
    forged = {"id": f"{remote.base_url}/f/5", "type": "Follow", "actor": alice.id,
              "object": community}  # fmt: skip
    # When mallory POSTs it
    status, answer = await remote.post(mallory, copub.inbox("nightshift"), forged)
    # Then it is refused and alice follows nothing
    assert status == 401
    assert alice.id in answer["error"]
    assert await copub.inbox_items(forged["id"]) == []


async def test_unsigned_request_is_401(copub: Copub, remote: RemoteServer, community: str) -> None:
    alice = remote.person("alice")
    body = {"id": f"{remote.base_url}/f/3", "type": "Follow", "actor": alice.id,
            "object": community}  # fmt: skip
    status, answer = await copub.post_json(copub.inbox("nightshift"), body)
    assert status == 401
    assert "error" in answer


async def test_malformed_body_is_400_json(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    alice = remote.person("alice")
    for body in (b"{not json", b"[1, 2]", json.dumps({"type": "Follow"}).encode()):
        status, answer = await remote.post_raw(alice, copub.inbox("nightshift"), body)
        assert status == 400, body
        assert isinstance(answer, dict)
        assert answer["error"]


async def test_unknown_activity_type_is_202(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a follower
    alice = remote.person("alice")
    await follow(remote, alice, copub, "nightshift")
    # When she sends an activity type copub has no handler for
    odd = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base_url}/bites/1",
        "type": "Bite",
        "actor": alice.id,
        "object": community,
    }
    status, answer = await remote.post(alice, copub.shared_inbox, odd)
    # Then it is accepted, processed as a no-op, and nothing is sent
    assert status == 202
    assert answer == {"accepted": odd["id"]}
    await copub.processed(odd["id"])
    assert await copub.inbox_items(odd["id"]) == ["done"]
    assert await copub.sent("Announce") == []


async def test_unknown_community_inbox_is_404(copub: Copub, remote: RemoteServer) -> None:
    alice = remote.person("alice")
    follow_ = {"id": f"{remote.base_url}/f/9", "type": "Follow", "actor": alice.id,
               "object": copub.actor("nobody")}  # fmt: skip
    status, answer = await remote.post(alice, copub.inbox("nobody"), follow_)
    assert status == 404
    assert answer["error"]
