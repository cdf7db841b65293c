"""Attack class: bodies that are not activities by their Content-Type.

A browser form (``application/x-www-form-urlencoded``, ``multipart/form-data``), an HTML
page or a POST with no Content-Type at all is not an activity, whatever its bytes say: the
inbox answers 415 with a JSON reason before it reads the body or checks a signature. The
ActivityPub media types keep working: ``application/activity+json``,
``application/ld+json`` (with the ActivityStreams profile or none) and ``application/json``.
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from sqlalchemy import func, select

from actors.store.models import InboxItemRow
from federation.httpsig import sign_request
from tests.flows import mastodon
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import RemoteServer

pytestmark = sqlite_only

WRONG = [
    "text/html",
    "text/plain; charset=utf-8",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    None,  # no Content-Type header at all
]
RIGHT = [
    "application/activity+json",
    "application/activity+json; charset=utf-8",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    "application/json",
]


async def post(
    url: str, body: bytes, content_type: str | None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=sent, skip_auto_headers=["Content-Type"]) as answer,
    ):
        return answer.status, await answer.json(content_type=None)


def signed(remote: RemoteServer, name: str, url: str, body: bytes, ct: str) -> dict[str, str]:
    headers = sign_request("POST", url, {"Content-Type": ct}, body, remote.person(name).signer)
    headers.pop("Host", None)
    headers.pop("Content-Type", None)
    return headers


async def stored(copub: Copub) -> int:
    return await copub.count(select(func.count()).select_from(InboxItemRow))


@pytest.mark.parametrize("content_type", WRONG)
async def test_wrong_content_type_is_415_before_the_signature(
    copub: Copub, remote: RemoteServer, community: str, content_type: str | None
) -> None:
    """Unsigned or signed, a body that is not declared an activity gets 415 and a reason."""
    alice = remote.person("alice")
    body = json.dumps(mastodon.follow(alice, community)).encode()
    status, answer = await post(copub.inbox("nightshift"), body, content_type)
    assert status == 415, answer
    assert "Content-Type" in answer["error"]
    headers = signed(remote, "alice", copub.shared_inbox, body, content_type or "")
    status, answer = await post(copub.shared_inbox, body, content_type, headers)
    assert status == 415, answer
    assert await stored(copub) == 0


@pytest.mark.parametrize("content_type", RIGHT)
async def test_activitypub_media_types_are_accepted(
    copub: Copub, remote: RemoteServer, community: str, content_type: str
) -> None:
    alice = remote.person("alice")
    body = json.dumps(mastodon.follow(alice, community)).encode()
    headers = signed(remote, "alice", copub.inbox("nightshift"), body, content_type)
    status, answer = await post(copub.inbox("nightshift"), body, content_type, headers)
    assert status == 202, answer
    assert await stored(copub) == 1
