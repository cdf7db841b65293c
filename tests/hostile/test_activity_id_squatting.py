"""Attack class: activity-id squatting.

Inboxes deduplicate deliveries by activity id, and many ids are predictable (Mastodon's
self-Delete of an account is ``https://other.example/users/x#delete``). A server that sends
first an activity of its own under another server's id would make the real one a
"duplicate", answered 202 and silently dropped. An activity whose id is not on the origin of
the key that signed it is refused with a JSON reason, and what is kept is keyed by (signer's
origin, activity id), a pair no other server can produce.
"""

from __future__ import annotations

from sqlalchemy import select

from actors.store.db import is_sqlite
from actors.store.inbox_queue import InboxWriter
from actors.store.models import InboxItemRow
from federation.inbox import AcceptedActivity
from federation.vocab import AS_CONTEXT, JSON, PUBLIC
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer


def self_delete(person: Person) -> JSON:
    """What Mastodon sends when an account is deleted."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{person.id}#delete",
        "type": "Delete",
        "actor": person.id,
        "object": person.id,
        "to": [PUBLIC],
    }


@sqlite_only
async def test_squatted_id_is_refused_and_the_real_delete_is_applied(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, community: str
) -> None:
    # Given x on other.example follows the community
    x = remote.person("x")
    await follow(remote, x, copub, "nightshift")
    assert await copub.follower_state("nightshift", x.id) == "accepted"
    # When evil.example sends a Like of its own under the id of x's future self-Delete
    mallory = remote2.person("mallory")
    squat = {
        "@context": AS_CONTEXT,
        "id": f"{x.id}#delete",
        "type": "Like",
        "actor": mallory.id,
        "object": community,
    }
    status, answer = await remote2.post(mallory, copub.shared_inbox, squat)
    # Then it is refused with a reason, and nothing is kept under that id
    assert status == 403, answer
    assert "origin" in answer["error"]
    assert await copub.inbox_items(squat["id"]) == []
    # And when x's account is deleted, its Delete is accepted and applied
    status, answer = await remote.post(x, copub.shared_inbox, self_delete(x))
    assert status == 202, answer
    await copub.processed(squat["id"])
    assert await copub.inbox_items(squat["id"]) == ["done"]
    assert await copub.follower_state("nightshift", x.id) is None


def _accepted(activity: JSON, signer: str) -> AcceptedActivity:
    return AcceptedActivity.of(activity, b"{}", signer)


async def test_deduplication_is_by_signer_origin_and_id(copub: Copub, database_url: str) -> None:
    """The same id from two origins is two items; from one origin, one."""
    writer = InboxWriter(copub.sessions, postgresql=not is_sqlite(database_url))
    like: JSON = {
        "id": "https://other.example/a/1",
        "type": "Like",
        "actor": "https://other.example/u",
    }
    await writer.store(_accepted(like, "https://other.example/u"), None)
    await writer.store(_accepted(like, "https://other.example/u"), None)
    await writer.store(_accepted(like, "https://evil.example/m"), None)
    async with copub.sessions() as session:
        rows = (await session.scalars(select(InboxItemRow))).all()
    assert [r.activity_id for r in rows] == [like["id"]] * 2
