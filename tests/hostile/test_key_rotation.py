"""Attack class: key churn, genuine or forged.

A peer restarts with a new key under the same key id: its first signed request fails with
the key cached here, which is fetched again once and the request accepted, so a rotation
costs nothing but that fetch (it once cost 401s for about 40 s, until the cached copy was a
minute old). Forged signatures naming a real key id cannot turn that into a flood of
fetches: a key is fetched again at most once per ``key_refresh_cooldown_seconds``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import aiohttp

from federation.httpsig import sign_request
from federation.keys import Signer, generate_rsa_keypair
from federation.vocab import AS2_MEDIA_TYPE, JSON
from tests.flows import mastodon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer

pytestmark = sqlite_only


@dataclass
class RekeyedPerson(Person):
    """The same account with a key pair made when its server restarted."""

    keys: tuple[str, str] = field(default_factory=generate_rsa_keypair)

    @property
    def signer(self) -> Signer:
        return Signer(key_id=self.id + "#main-key", private_key_pem=self.keys[0])

    def document(self) -> JSON:
        document = super().document()
        document["publicKey"]["publicKeyPem"] = self.keys[1]
        return document


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, JSON]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.json(content_type=None)


async def test_a_peer_restarted_with_a_new_key_is_accepted_at_once(
    copub: Copub, community: str
) -> None:
    # Given alice's server, whose key copub fetched when she followed a moment ago
    first = await RemoteServer().start()
    port = int(first.base_url.rsplit(":", 1)[1])
    await follow(first, first.person("alice"), copub, "nightshift")
    await first.close()
    # When her server restarts on the same address with a new key under the same key id
    async with RemoteServer(port=port) as restarted:
        alice = restarted.people["alice"] = RekeyedPerson("alice", restarted.base_url)
        # Then her next signed request is accepted the first time
        like = mastodon.like(alice, community)
        status, answer = await restarted.post(alice, copub.shared_inbox, like)
        assert status == 202, answer
        # And it cost one fetch of her actor document
        assert [path for path, _signer in restarted.fetches] == ["/users/alice"]


async def test_forged_signatures_refetch_a_key_at_most_once(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given alice follows (her key is fetched and cached)
    alice = remote.person("alice")
    await follow(remote, alice, copub, "nightshift")
    fetched = len(remote.fetches)
    # When 20 requests arrive that name her key but were signed with another one
    impostor = Signer(key_id=alice.signer.key_id, private_key_pem=generate_rsa_keypair()[0])
    for n in range(20):
        body = json.dumps(mastodon.like(alice, f"{community}#{n}")).encode()
        headers = sign_request(
            "POST", copub.shared_inbox, {"Content-Type": AS2_MEDIA_TYPE}, body, impostor
        )
        headers.pop("Host", None)
        status, answer = await post(copub.shared_inbox, body, headers)
        # Then each is refused
        assert status == 401, answer
    # And her actor document was fetched again once, not 20 times
    assert len(remote.fetches) - fetched == 1
