import json
from tests.flows.copub import Copub, sqlite_only
from tests.interop.checks import find
from tests.interop.fedify import FedifyPeer
pytestmark = sqlite_only

async def test_view(copub: Copub, peer: FedifyPeer, community: str) -> None:
    found = await peer.lookup(copub.urls.handle("nightshift"))
    print("GROUP", json.dumps(found["document"], indent=1)[:6000])
    sent = await peer.follow(copub.urls.handle("nightshift"))
    await peer.wait_for(find("Accept"))
    story = await copub.publish("nightshift", "Night meds", "What do you *check* twice?")
    [c] = await peer.wait_for(find("Create", object_id_=story))
    print("CREATE", json.dumps(c, indent=1))
    n = await peer.lookup(story)
    print("NOTE", json.dumps(n, indent=1))
