"""copub's signatures as Fedify checks them: RFC 9421 and draft-cavage, and double-knocking.

The peer verifies with Fedify's own verifier (``verifyRequest``: both formats). Told to
refuse a format (``peer.refuse``), it answers 401 to requests signed with it before Fedify
sees them, as a server that checks only the other format does. It logs the format and
answer of every signed request (``peer.requests``): copub's fetches of its actor (which
needs a signature) and deliveries to its inboxes.
"""

from __future__ import annotations

import pytest

from actors.web.keys import CLIENT
from federation.origins import origin_text
from tests.flows.copub import sqlite_only
from tests.interop.checks import find, verified_everything
from tests.interop.conftest import HttpsCopub
from tests.interop.fedify import FedifyPeer
from tests.interop.test_fedify_scenarios import follow

pytestmark = sqlite_only

CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"
RFC9421_FIRST = {"federation": {"signature_scheme": "rfc9421"}}
SCHEME_OF = {CAVAGE: "cavage", RFC9421: "rfc9421"}  # copub's names for Fedify's specs


async def knocks(peer: FedifyPeer, copub: HttpsCopub) -> list[tuple[str, str, int]]:
    """(method, spec, status) of each request copub signed, in order (the peer's fetches of
    its own objects are left out)."""
    return [
        (r["method"], r["spec"], r["status"])
        for r in await peer.requests()
        if (r["keyId"] or "").startswith(copub.base_url + "/")
    ]


async def story_reaches(copub: HttpsCopub, peer: FedifyPeer) -> None:
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await peer.wait_for(find("Create", object_id_=story), what="the story's Create")


@pytest.mark.parametrize("copub", [RFC9421_FIRST], indirect=True)
async def test_fedify_verifies_copubs_rfc9421_signatures(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given copub knocking with RFC 9421 first, and a peer that takes RFC 9421 only
    await peer.refuse(CAVAGE)
    # When the peer follows the community and gets a story
    await follow(peer, copub)
    await story_reaches(copub, peer)
    # Then every request copub signed was RFC 9421 and got past Fedify's verifier at once:
    # fetches of the actor (Fedify checked the signer) and the deliveries (Accept, Create)
    sent = await knocks(peer, copub)
    assert {method for method, _, _ in sent} == {"GET", "POST"}
    assert all(spec == RFC9421 and status < 400 for _, spec, status in sent), sent
    owners = {f["owner"] for f in await peer.fetches()}
    assert owners
    assert owners <= {community, copub.urls.application()}
    assert await verified_everything(copub, peer) == 2


@pytest.mark.parametrize(
    ("copub", "refused", "taken"),
    [
        # the Done-when case: RFC 9421 first, the peer answers 401, draft-cavage gets in
        (RFC9421_FIRST, RFC9421, CAVAGE),
        # and the other order, as with the default first knock
        ({}, CAVAGE, RFC9421),
    ],
    indirect=["copub"],
    ids=["rfc9421-first", "cavage-first"],
)
async def test_copub_knocks_again_with_the_format_the_peer_takes_and_remembers_it(
    copub: HttpsCopub, peer: FedifyPeer, community: str, refused: str, taken: str
) -> None:
    # Given a peer that answers 401 to copub's first knock
    await peer.refuse(refused)
    # When it follows the community
    await follow(peer, copub)
    # Then copub's first signed request (the fetch of the peer's key) knocked twice: a 401,
    # then the other format, which Fedify verified; and every later one, the Accept included,
    # went with that format at once (one memory for the process's clients)
    sent = await knocks(peer, copub)
    method = sent[0][0]
    assert sent[:2] == [(method, refused, 401), (method, taken, sent[1][2])], sent
    assert all(spec == taken and status < 400 for _, spec, status in sent[1:]), sent
    assert ("POST", taken, 202) in sent
    assert copub.app[CLIENT].schemes.scheme_for(origin_text(peer.origin)) == SCHEME_OF[taken]
    # And a story that follows is delivered with the remembered format at the first knock
    await story_reaches(copub, peer)
    later = (await knocks(peer, copub))[len(sent) :]
    assert [(m, spec) for m, spec, _ in later if m == "POST"] == [("POST", taken)]
    assert all(spec == taken and status < 400 for _, spec, status in later), later
    assert await verified_everything(copub, peer) == 2
