"""Attack class: identifiers longer than the database holds.

A signed activity whose ``id`` is longer than the inbox's column (2,048 characters) once
failed, on PostgreSQL, the insert of the whole group-commit batch it was written in: the
sender's request and every other request of that batch answered 500. Such an activity is
refused with 400 before anything is written; the others get their 202.
"""

from __future__ import annotations

import asyncio

from federation.vocab import AS_CONTEXT
from tests.flows import mastodon
from tests.flows.copub import Copub
from tests.flows.remote import RemoteServer


async def test_an_id_longer_than_its_column_is_400_and_harms_no_other_request(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    mallory, bob = remote.person("mallory"), remote.person("bob")
    long_like = {"@context": AS_CONTEXT, "id": f"{mallory.id}#likes/{'x' * 3000}",
                 "type": "Like", "actor": mallory.id, "object": community}  # fmt: skip
    follow = mastodon.follow(bob, community)
    # When both arrive at once (written in one batch if they were both accepted)
    (status, answer), (follow_status, _) = await asyncio.gather(
        remote.post(mallory, copub.shared_inbox, long_like),
        remote.post(bob, copub.inbox("nightshift"), follow),
    )
    # Then the long id is refused with a reason, and the Follow is accepted
    assert status == 400, answer
    assert "too long" in answer["error"]
    assert follow_status == 202
    assert await copub.inbox_items(follow["id"]) in (["pending"], ["done"])
