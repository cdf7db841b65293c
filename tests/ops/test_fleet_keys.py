"""Keys in a fleet: each web process keeps the keys it verified with in memory, in front of
the ``remote_keys`` table they share (actors/remote.py, SqlKeyCache). When a peer rotates
its key, every process accepts the new signatures without a restart: a signature that
fails with the key in memory reads the row again, and takes the key another process
fetched meanwhile (even while its own refetch cooldown runs) before fetching it itself.
And a process that fetched the old key never writes it over the new one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.remote import SqlKeyCache
from actors.web.app import create_app
from actors.web.keys import SETTINGS
from federation.httpsig import CachedKey, PublicKeyInfo, sign_request
from federation.keys import Signer, generate_rsa_keypair
from federation.vocab import AS2_MEDIA_TYPE
from tests.flows import mastodon
from tests.flows.copub import Copub, start_copub, wait_until
from tests.flows.remote import Person, RemoteServer
from tests.hostile.test_key_rotation import RekeyedPerson
from tests.pg import free_port

Sessions = async_sessionmaker[AsyncSession]
KEY_ID = "https://remote.example/users/ana#main-key"

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@dataclass
class Fleet:
    """Two web processes of one copub: the same settings and database, each with its own
    key cache (``a`` is a Copub; ``b_inbox`` is the shared inbox on the other's port)."""

    a: Copub
    b_inbox: str

    @property
    def a_inbox(self) -> str:
        return self.a.shared_inbox


@pytest.fixture
async def fleet(database_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    # accept and store only: key lookups are the only fetches; a long refetch cooldown
    a = await start_copub(
        database_url,
        tmp_path,
        inbox={"in_process": False},
        federation={"allow_private_addresses": True, "key_refresh_cooldown_seconds": 600},
    )
    b = TestServer(create_app(a.app[SETTINGS]), host="127.0.0.1", port=free_port())
    try:
        await b.start_server()
        await a.create_community("nightshift")
        yield Fleet(a, str(b.make_url(urlsplit(a.shared_inbox).path)))
    finally:
        await b.close()
        await a.server.close()


async def stored_pem(sessions: Sessions, key_id: str) -> str | None:
    """The key's PEM as the database has it (a cache of its own reads it)."""
    entry = await SqlKeyCache(sessions).get(key_id)
    return None if entry is None else entry.info.public_key_pem


async def forged(person: Person, inbox: str, community: str) -> int:
    """A Like naming ``person``'s key but signed with another; the status."""
    impostor = Signer(key_id=person.signer.key_id, private_key_pem=generate_rsa_keypair()[0])
    body = json.dumps(mastodon.like(person, community)).encode()
    headers = sign_request("POST", inbox, {"Content-Type": AS2_MEDIA_TYPE}, body, impostor)
    headers.pop("Host", None)
    async with (
        aiohttp.ClientSession() as session,
        session.post(inbox, data=body, headers=headers) as response,
    ):
        return response.status


def key_fetches(remote: RemoteServer) -> int:
    return sum(1 for path, _signer in remote.fetches if path == "/users/alice")


async def liked(remote: RemoteServer, person: Person, inbox: str, community: str) -> int:
    status, answer = await remote.post(person, inbox, mastodon.like(person, community))
    assert status in (202, 401), answer
    return status


@postgres_only
async def test_a_rotated_key_is_taken_up_by_every_process_without_a_restart(
    fleet: Fleet, remote: RemoteServer
) -> None:
    community = fleet.a.actor("nightshift")
    alice = remote.person("alice")
    key_id = alice.signer.key_id
    # Given process A fetched alice's key for her first request, and stored it
    assert await liked(remote, alice, fleet.a_inbox, community) == 202
    old_pem = await wait_until(lambda: stored_pem(fleet.a.sessions, key_id), what="key row")
    # And process B verified her next one with the stored key, fetching nothing
    assert await liked(remote, alice, fleet.b_inbox, community) == 202
    assert key_fetches(remote) == 1
    # And B has just fetched her key again for a forged signature: its cooldown runs
    assert await forged(alice, fleet.b_inbox, community) == 401
    assert key_fetches(remote) == 2

    # When her server rotates her key
    rekeyed = remote.people["alice"] = RekeyedPerson("alice", remote.base_url)
    new_pem = rekeyed.keys[1]
    assert new_pem != old_pem
    # Then A accepts her next request, fetching the new key once
    assert await liked(remote, rekeyed, fleet.a_inbox, community) == 202
    assert key_fetches(remote) == 3

    async def new_key_stored() -> bool:  # A writes the keys it fetched behind
        return await stored_pem(fleet.a.sessions, key_id) == new_pem

    await wait_until(new_key_stored, what="the new key stored")
    # And B accepts hers too, within its cooldown, with the key A stored
    assert await liked(remote, rekeyed, fleet.b_inbox, community) == 202
    assert key_fetches(remote) == 3
    # And forgeries are still refused by both
    assert await forged(rekeyed, fleet.a_inbox, community) == 401
    assert await forged(rekeyed, fleet.b_inbox, community) == 401


@postgres_only
async def test_each_process_refetches_a_rotated_key_itself_if_need_be(
    fleet: Fleet, remote: RemoteServer
) -> None:
    community = fleet.a.actor("nightshift")
    alice = remote.person("alice")
    # Given both processes hold alice's key in memory
    assert await liked(remote, alice, fleet.a_inbox, community) == 202
    await wait_until(lambda: stored_pem(fleet.a.sessions, alice.signer.key_id), what="key row")
    assert await liked(remote, alice, fleet.b_inbox, community) == 202
    # When her key is rotated
    rekeyed = remote.people["alice"] = RekeyedPerson("alice", remote.base_url)
    # Then each accepts her new signatures at once, whichever of them sees one first
    for inbox in (fleet.b_inbox, fleet.a_inbox, fleet.b_inbox, fleet.a_inbox):
        assert await liked(remote, rekeyed, inbox, community) == 202
    assert key_fetches(remote) <= 3, "one fetch at first, one by each process at most"


def public_pem() -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def entry(pem: str, fetched_at: float) -> CachedKey:
    return CachedKey(PublicKeyInfo(KEY_ID, KEY_ID.split("#")[0], pem), fetched_at)


async def test_a_key_fetched_earlier_never_replaces_one_fetched_later(sessions: Sessions) -> None:
    now = datetime.now(UTC).timestamp()
    old, new = public_pem(), public_pem()
    # Given one process fetched the old key, a second later another fetched the new one
    early, late = SqlKeyCache(sessions), SqlKeyCache(sessions)
    await late.put(KEY_ID, entry(new, now))
    await late.flush()
    # When the first writes its key behind, after the other
    await early.put(KEY_ID, entry(old, now - 1))
    await early.flush()
    # Then the table keeps the new key
    assert await stored_pem(sessions, KEY_ID) == new
    # And a key fetched later still replaces it
    newest = public_pem()
    await early.put(KEY_ID, entry(newest, now + 1))
    await early.flush()
    assert await stored_pem(sessions, KEY_ID) == newest
